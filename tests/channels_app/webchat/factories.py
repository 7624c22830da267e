"""Factories for the web chat models (the shared ones are in tests/factories.py)."""

import factory

from channels_app.models import ChatSession, WebChatSettings
from conversations.models import Channel
from tests.factories import EntryPointFactory


class ChatEntryPointFactory(EntryPointFactory):
    name = factory.Sequence(lambda n: f"Website chat {n}")
    channel = Channel.CHAT
    address = factory.Sequence(lambda n: f"site-{n}")


class WebChatSettingsFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WebChatSettings

    entry_point = factory.SubFactory(ChatEntryPointFactory)


class ChatSessionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ChatSession

    entry_point = factory.SubFactory(ChatEntryPointFactory)
    visitor_id = factory.Sequence(lambda n: f"{n:032x}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
