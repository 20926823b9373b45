"""Questions in the citizen's own words: answered, suggested, or passed to an officer.

Free text outside a flow comes here. A text the routing classifier reads confidently as a
matter to handle (not a question the FAQ answers) is first offered as a case. A question
typed in the middle of a flow, where the flow expects a choice, is answered and the flow's
question asked again.
"""

from __future__ import annotations

import re

from bot.messages import Option
from faq.matcher import FaqDecision
from faq.service import FaqService
from handlers import texts
from handlers.context import Context
from handlers.menu import MAIN_MENU
from handlers.router import Router
from handlers.smalltalk import small_talk
from storage.cases import CaseDraft, DailyLimitReached
from storage.models import FaqLog

_PHONE = re.compile(r"(?<!\d)(?:\+?84|0)(?:[\s.\-]?\d){8,10}(?!\d)")
_EMAIL = re.compile(r"\S+@\S+")


def scrub(question: str) -> str:
    """The question without phone numbers or e-mail addresses, for the misses log."""
    return _EMAIL.sub("<email>", _PHONE.sub("<số điện thoại>", question))[:1000]


def faq_of(ctx: Context) -> FaqService:
    service: FaqService = ctx.services.extras["faq"]
    return service


def _remember_question(ctx: Context, question: str) -> None:
    data = dict(ctx.conversation.data or {})
    data["question"] = question[: ctx.config.limits.max_text_length]
    ctx.conversation.data = data


def _last_question(ctx: Context) -> str | None:
    question = (ctx.conversation.data or {}).get("question")
    return str(question) if question else None


def _log(ctx: Context, question: str, outcome: str, decision: FaqDecision | None) -> None:
    ctx.session.add(
        FaqLog(
            at=ctx.now,
            question=scrub(question),
            outcome=outcome,
            topic_id=decision.topic_id if decision else None,
            score=decision.score if decision else None,
        )
    )


def answer_topic(ctx: Context, topic_id: str) -> None:
    faq = faq_of(ctx)
    topic = faq.topic(topic_id)
    if topic is None:
        ctx.reply(texts.FAQ_QUESTION_GONE, MAIN_MENU)
        return
    options = [
        Option(f"faq:topic:{related}", texts.faq_more(faq.corpus.topics[related].title))
        for related in topic.related[:3]
        if related in faq.corpus.topics
    ]
    options += [
        Option(f"faq:up:{topic.id}", texts.FAQ_UP),
        Option(f"faq:down:{topic.id}", texts.FAQ_DOWN),
    ]
    ctx.reply(f"{faq.answer(topic)}\n\n{texts.FAQ_HELPFUL}", options)


def suggest(ctx: Context, decision: FaqDecision) -> None:
    faq = faq_of(ctx)
    options = [
        Option(f"faq:topic:{topic_id}", faq.corpus.topics[topic_id].title)
        for topic_id in decision.suggestions
        if topic_id in faq.corpus.topics
    ]
    options.append(Option("faq:officer", texts.FAQ_NOT_THESE))
    ctx.reply(texts.FAQ_SUGGEST, options)


def no_answer(ctx: Context) -> None:
    ctx.reply(
        texts.faq_none(ctx.config.commune.hotline),
        [Option("faq:officer", texts.FAQ_ASK_OFFICER), Option("menu:home", texts.BACK_TO_MENU)],
    )


def handle_question(ctx: Context, *, offer_case: bool = True) -> None:
    question = ctx.text
    talk = small_talk(question)
    if talk is not None:
        greeting = talk == "greeting"
        ctx.reply(texts.SMALL_TALK_GREETING if greeting else texts.SMALL_TALK_THANKS, MAIN_MENU)
        return
    decision = faq_of(ctx).match(question)
    _remember_question(ctx, question)
    if decision.outcome == "answer" and decision.topic_id:
        answer_topic(ctx, decision.topic_id)
        return
    if offer_case:
        classifier = ctx.services.classifier
        routing = classifier.classify(question)
        if (
            len(question) >= ctx.config.limits.min_text_length
            and routing.category != "khac"
            and classifier.is_confident(routing, ctx.config.routing.min_confidence)
        ):
            ctx.reply(
                texts.FAQ_OFFER_CASE,
                [
                    Option("faq:case", texts.FAQ_TO_CASE),
                    Option("faq:question", texts.FAQ_JUST_ASKING),
                ],
            )
            return
    if decision.outcome == "suggest":
        suggest(ctx, decision)
        return
    _log(ctx, question, "none", decision)
    no_answer(ctx)


def answer_in_flow(ctx: Context) -> bool:
    """Answer a question typed where a flow expects a choice; False if it is no question
    the FAQ answers (then the flow deals with the text)."""
    if not ctx.text or len(ctx.text) < 6:
        return False
    decision = faq_of(ctx).match(ctx.text)
    if decision.outcome != "answer" or decision.topic_id is None:
        return False
    topic = faq_of(ctx).topic(decision.topic_id)
    if topic is None:
        return False
    ctx.preface(faq_of(ctx).answer(topic))
    return True


def register(router: Router) -> None:
    router.free_text = handle_question
    router.faq_in_flow = answer_in_flow

    @router.command("hoidap")
    def browse(ctx: Context, _args: str) -> None:
        groups = faq_of(ctx).corpus.groups
        ctx.reply(
            texts.FAQ_BROWSE,
            [Option(f"faq:group:{group.id}", group.title) for group in groups]
            + [Option("menu:home", texts.BACK_TO_MENU)],
        )

    @router.option("faq")
    def faq_option(ctx: Context, value: str) -> None:
        action, _, argument = value.partition(":")
        faq = faq_of(ctx)
        if action == "group":
            group = faq.corpus.group(argument)
            if group is None:
                browse(ctx, "")
                return
            ctx.reply(
                texts.FAQ_CHOOSE_TOPIC,
                [
                    Option(f"faq:topic:{topic_id}", faq.corpus.topics[topic_id].title)
                    for topic_id in group.topic_ids
                    if topic_id in faq.corpus.topics
                ]
                + [Option("faq:browse", texts.MENU_FAQ)],
            )
        elif action == "browse":
            browse(ctx, "")
        elif action == "topic":
            answer_topic(ctx, argument)
        elif action == "up":
            ctx.reply(texts.FAQ_THANKS_UP, MAIN_MENU)
        elif action == "down":
            question = _last_question(ctx) or f"[{argument}]"
            _log(ctx, question, "down", FaqDecision("answer", argument, 0.0))
            ctx.reply(
                texts.faq_thanks_down(ctx.config.commune.hotline),
                [
                    Option("faq:officer", texts.FAQ_ASK_OFFICER),
                    Option("menu:home", texts.BACK_TO_MENU),
                ],
            )
        elif action == "officer":
            send_to_officer(ctx)
        elif action == "case":
            remembered = _last_question(ctx)
            intake = router.flows.get("intake")
            if remembered is None or intake is None:
                ctx.reply(texts.FAQ_QUESTION_GONE, MAIN_MENU)
                return
            start_with = getattr(intake, "start_with_text", None)
            if start_with is not None:
                start_with(ctx, remembered)
        elif action == "question":
            remembered = _last_question(ctx)
            if remembered is None:
                ctx.reply(texts.FAQ_QUESTION_GONE, MAIN_MENU)
                return
            decision = faq.match(remembered)
            if decision.outcome == "suggest":
                suggest(ctx, decision)
            else:
                _log(ctx, remembered, "none", decision)
                no_answer(ctx)


def send_to_officer(ctx: Context) -> None:
    """File the remembered question as a phản ánh, kiến nghị routed by the classifier."""
    question = _last_question(ctx)
    if question is None or len(question) < ctx.config.limits.min_text_length:
        ctx.reply(texts.FAQ_QUESTION_GONE, MAIN_MENU)
        return
    routing = ctx.services.classifier.classify(question)
    category = routing.category if routing.category in ctx.config.categories else "khac"
    try:
        ctx.services.cases.create(
            ctx.session,
            citizen_id=ctx.person.id,
            reply_to=ctx.identity,
            draft=CaseDraft(
                kind="phan_anh_kien_nghi",
                category=category,
                content=question,
                channel=ctx.identity.channel,
                routing_confidence=routing.confidence,
            ),
            now=ctx.now,
            reply_options=MAIN_MENU,
        )
    except DailyLimitReached:
        limit = ctx.config.limits.max_cases_per_person_per_day
        ctx.reply(texts.daily_limit_reached(limit), MAIN_MENU)
        return
    data = dict(ctx.conversation.data or {})
    data.pop("question", None)
    ctx.conversation.data = data
