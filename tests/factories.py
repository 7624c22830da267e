"""One factory per model."""

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from channels_app.models import EntryPoint
from contactcenter.models import Event
from contacts.models import Contact, Identity
from conversations.models import (
    AgentProfile,
    AgentState,
    Channel,
    Conversation,
    Disposition,
    Interaction,
    Message,
    MessageStatus,
    Service,
)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.PostGenerationMethodCall("set_password", "password")

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
