"""Reports for leaders: periods, the weekly text, charts and XLSX/CSV exports.

The figures come from :mod:`storage.stats`; this package turns them into what people read.
Modules are imported directly (``from bot.reports.weekly import ...``); this file imports
nothing so that ``storage.stats`` can use :mod:`bot.reports.periods` without a cycle.
"""
