"""One factory per model."""

import datetime
import functools

import factory
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.utils import timezone

from channels_app.models import (
    ApiChannelSettings,
    ChatNotice,
    ChatSession,
    ChatTranscriptRequest,
    EmailAttachment,
    EmailDetails,
    EmailReceipt,
    EmailSignature,
    EntryPoint,
    LocalOutboxItem,
    VoiceCall,
    WebChatSettings,
)
from contactcenter.models import (
    ApiToken,
    AuditAction,
    AuditRecord,
    Event,
    IdempotencyKey,
    WebhookDelivery,
    WebhookSubscription,
)
from contacts.models import Contact, ContactImport, ContactMerge, Identity
from conversations.models import (
    AgentProfile,
    AgentSkill,
    AgentState,
    BusinessHours,
    CannedResponse,
    Channel,
    Conversation,
    ConversationParticipant,
    CustomFieldDefinition,
    Disposition,
    Holiday,
    Interaction,
    Message,
    MessageStatus,
    NotReadyReason,
    Offer,
    Service,
    ServiceSkill,
    Skill,
    Team,
)


@functools.cache
def _hashed(raw: str, hashers: tuple[str, ...]) -> str:
    return make_password(raw)


def hashed_password(raw: str) -> str:
    """``make_password(raw)``, remembered per password and hasher setting (a salt shared by the
    test users is harmless; the hash is one the configured hasher verifies)."""
    return _hashed(raw, tuple(settings.PASSWORD_HASHERS))


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")

    @factory.post_generation
    def password(obj, create, extracted, **kwargs):
        """The real hasher (live servers check these passwords at login), but each distinct
        password is hashed once per process: PBKDF2 costs a third of a second per user."""
        obj.password = hashed_password("password" if extracted is None else extracted)

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class ServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Service

    name = factory.Sequence(lambda n: f"Service {n}")
    channels = factory.LazyFunction(lambda: ["voice", "chat", "sms", "email"])


class DispositionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Disposition

    service = factory.SubFactory(ServiceFactory)
    name = factory.Sequence(lambda n: f"Outcome {n}")


class CustomFieldDefinitionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CustomFieldDefinition

    service = factory.SubFactory(ServiceFactory)
    key = factory.Sequence(lambda n: f"field_{n}")
    label = factory.Sequence(lambda n: f"Field {n}")


class AgentProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AgentProfile
        skip_postgeneration_save = True

    user = factory.SubFactory(UserFactory)
    display_name = factory.LazyAttribute(lambda o: f"Agent {o.user.username}")
    state = AgentState.READY

    @factory.post_generation
    def services(obj, create, extracted, **kwargs):
        if create and extracted:
            obj.services.add(*extracted)


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")


class IdentityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Identity

    contact = factory.SubFactory(ContactFactory)
    kind = Identity.Kind.PHONE
    value = factory.Sequence(lambda n: f"+1415555{n % 10000:04d}")


class ConversationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Conversation

    contact = factory.SubFactory(ContactFactory)
    service = factory.SubFactory(ServiceFactory)
    last_message_at = factory.LazyFunction(timezone.now)


class InteractionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Interaction

    conversation = factory.SubFactory(ConversationFactory)
    channel = Channel.SMS
    direction = Interaction.Direction.INBOUND
    state = Interaction.State.ACTIVE
    agent = factory.SelfAttribute("conversation.agent")
    customer_address = "+14155550100"
    service_address = "+15005550006"


class MessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Message

    interaction = factory.SubFactory(InteractionFactory)
    conversation = factory.SelfAttribute("interaction.conversation")
    channel = factory.SelfAttribute("interaction.channel")
    direction = Message.Direction.INBOUND
    body = factory.Faker("sentence")
    status = MessageStatus.RECEIVED


class EntryPointFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EntryPoint

    name = factory.Sequence(lambda n: f"Entry point {n}")
    channel = Channel.SMS
    address = factory.Sequence(lambda n: f"+1500555{n % 10000:04d}")
    service = factory.SubFactory(ServiceFactory)


class EventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Event

    audience = "supervisors"
    type = "test.event"
    payload = factory.LazyFunction(dict)


class AuditRecordFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AuditRecord

    actor = factory.SubFactory(UserFactory)
    actor_name = factory.LazyAttribute(lambda o: o.actor.username)
    action = AuditAction.CONVERSATION_MONITORED
    target_repr = factory.Sequence(lambda n: f"C-{1000 + n}")


class SkillFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Skill

    name = factory.Sequence(lambda n: f"Skill {n}")


class ServiceSkillFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ServiceSkill

    service = factory.SubFactory(ServiceFactory)
    skill = factory.SubFactory(SkillFactory)


class AgentSkillFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AgentSkill

    agent = factory.SubFactory(AgentProfileFactory)
    skill = factory.SubFactory(SkillFactory)


class BusinessHoursFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BusinessHours

    service = factory.SubFactory(ServiceFactory)
    weekday = 0
    opens = "09:00"
    closes = "17:00"


class HolidayFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Holiday

    service = factory.SubFactory(ServiceFactory)
    date = factory.Sequence(lambda n: timezone.now().date() + datetime.timedelta(days=n))


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Team {n}")

    @factory.post_generation
    def services(obj, create, extracted, **kwargs):
        if create and extracted:
            obj.services.add(*extracted)

    @factory.post_generation
    def members(obj, create, extracted, **kwargs):
        if create and extracted:
            obj.members.add(*extracted)


class NotReadyReasonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = NotReadyReason

    name = factory.Sequence(lambda n: f"Reason {n}")


class CannedResponseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CannedResponse

    service = factory.SubFactory(ServiceFactory)
    title = factory.Sequence(lambda n: f"Canned {n}")
    body = "Hello {{ contact.first_name }}"


class ConversationParticipantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ConversationParticipant

    conversation = factory.SubFactory(ConversationFactory)
    agent = factory.SubFactory(UserFactory)


class OfferFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Offer

    interaction = factory.SubFactory(
        InteractionFactory, state=Interaction.State.OFFERED, conversation__agent=None
    )
    agent = factory.SubFactory(UserFactory)
    state = Offer.State.EXPIRED
    expires_at = factory.LazyFunction(timezone.now)


class ContactMergeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ContactMerge

    survivor = factory.SubFactory(ContactFactory)
    merged = factory.SubFactory(ContactFactory)
    created_by = factory.SubFactory(UserFactory)


class ContactImportFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ContactImport

    created_by = factory.SubFactory(UserFactory)
    filename = factory.Sequence(lambda n: f"contacts-{n}.csv")


class IdempotencyKeyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = IdempotencyKey

    user = factory.SubFactory(UserFactory)
    key = factory.Sequence(lambda n: f"key-{n}")
    fingerprint = "0" * 64


class LocalOutboxItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LocalOutboxItem

    message_id = factory.Sequence(lambda n: 10_000 + n)
    from_address = "+15005550006"
    to_address = "+14155550100"
    body = "Hello"


class EmailSignatureFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EmailSignature

    service = factory.SubFactory(ServiceFactory)
    agent = factory.SubFactory(UserFactory)
    text = "Kind regards, {{ agent.name }}"


class EmailReceiptFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EmailReceipt

    message_id = factory.Sequence(lambda n: f"bounce-{n}@mail.example.com")
    kind = EmailReceipt.Kind.BOUNCE
    detail = "550 5.1.1 User unknown"


class EmailDetailsFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EmailDetails

    message = factory.SubFactory(
        "tests.factories.MessageFactory", interaction__channel=Channel.EMAIL, channel=Channel.EMAIL
    )
    header_id = factory.Sequence(lambda n: f"message-{n}@mail.example.com")
    subject = "Where is my order?"
    from_address = "maria@example.com"


class EmailAttachmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EmailAttachment

    message = factory.SubFactory(
        "tests.factories.MessageFactory", interaction__channel=Channel.EMAIL, channel=Channel.EMAIL
    )
    file = factory.django.FileField(filename="receipt.pdf", data=b"%PDF-1.4 test")
    filename = "receipt.pdf"
    content_type = "application/pdf"
    size = 13


class WebChatSettingsFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WebChatSettings

    entry_point = factory.SubFactory(
        EntryPointFactory,
        channel=Channel.CHAT,
        address=factory.Sequence(lambda n: f"chat-site-{n}"),
    )


class VoiceCallFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = VoiceCall

    interaction = factory.SubFactory(
        "tests.factories.InteractionFactory", channel=Channel.VOICE, direction="outbound"
    )


class ChatSessionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ChatSession

    entry_point = factory.SubFactory(
        EntryPointFactory,
        channel=Channel.CHAT,
        address=factory.Sequence(lambda n: f"chat-site-{n}"),
    )
    visitor_id = factory.Sequence(lambda n: f"{n:032x}")
    conversation = factory.SubFactory(ConversationFactory)


class ChatNoticeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ChatNotice

    session = factory.SubFactory(ChatSessionFactory)
    code = ChatNotice.Code.AGENT_JOINED


class ChatTranscriptRequestFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ChatTranscriptRequest

    session = factory.SubFactory(ChatSessionFactory)
    email = factory.Sequence(lambda n: f"customer{n}@example.com")


class GroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Group

    name = factory.Sequence(lambda n: f"Group {n}")


class ApiTokenFactory(factory.django.DjangoModelFactory):
    """A token row (its key unknown: create usable ones with contactcenter.tokens)."""

    class Meta:
        model = ApiToken

    name = factory.Sequence(lambda n: f"Token {n}")
    user = factory.SubFactory(UserFactory)
    prefix = factory.Sequence(lambda n: f"cc_test{n:05d}")
    key_hash = "0" * 64
    scopes = factory.LazyFunction(lambda: ["read"])


class WebhookSubscriptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WebhookSubscription

    name = factory.Sequence(lambda n: f"Hook {n}")
    url = "https://crm.example.com/hook"
    secret = "whsec_test"
    event_types = factory.LazyFunction(lambda: ["message.created"])
    user = factory.SubFactory(UserFactory)


class WebhookDeliveryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WebhookDelivery

    subscription = factory.SubFactory(WebhookSubscriptionFactory)
    event_id = factory.Sequence(lambda n: n + 1)
    event_type = "message.created"
    payload = factory.LazyFunction(dict)


class ApiChannelSettingsFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ApiChannelSettings

    entry_point = factory.SubFactory(
        EntryPointFactory, channel=Channel.API, address=factory.Sequence(lambda n: f"bridge-{n}")
    )
    reply_url = "https://bridge.example.com/replies"


class AccessAttemptFactory(factory.django.DjangoModelFactory):
    """A login throttling record of django-axes (a locked-out agent has one)."""

    class Meta:
        model = AccessAttempt

    username = factory.Sequence(lambda n: f"agent{n}")
    ip_address = "127.0.0.1"
    user_agent = "Mozilla/5.0"
    attempt_time = factory.LazyFunction(timezone.now)
    failures_since_start = 5


class AccessFailureLogFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AccessFailureLog

    username = factory.Sequence(lambda n: f"agent{n}")
    ip_address = "127.0.0.1"
    attempt_time = factory.LazyFunction(timezone.now)


class AccessLogFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AccessLog

    username = factory.Sequence(lambda n: f"agent{n}")
    ip_address = "127.0.0.1"
    attempt_time = factory.LazyFunction(timezone.now)
