"""Demo data so a new user sees a living system. Idempotent: running it again changes nothing."""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from channels_app.models import EmailMailbox, EmailSignature, EntryPoint, WebChatSettings
from contactcenter import roles
from contactcenter.roles import user_role_set
from contacts.models import Contact, Identity
from conversations.models import (
    AgentProfile,
    AgentState,
    CannedResponse,
    Channel,
    Conversation,
    CustomFieldDefinition,
    Disposition,
    Interaction,
    Message,
    MessageStatus,
    NotReadyReason,
    Service,
    Team,
)

SERVICES = {
    "Support": {
        "channels": ["voice", "chat", "sms", "email"],
        "disposition_required": True,
        "dispositions": ["Resolved", "Escalated", "Callback scheduled", "No answer"],
        "call_recording": "notice",
    },
    "Sales": {
        "channels": ["voice", "chat", "sms", "email"],
        "disposition_required": False,
        "dispositions": ["Sold", "Quote sent", "Not interested"],
        "call_recording": "off",
    },
}
ENTRY_POINTS = [
    ("Support SMS", Channel.SMS, "+15005550006", "Support"),
    ("Sales SMS", Channel.SMS, "+15005550007", "Sales"),
    ("Support line", Channel.VOICE, "+15005550008", "Support"),
    ("Support email", Channel.EMAIL, "support@example.com", "Support"),
    ("Website chat", Channel.CHAT, "website", "Support"),
]
# The fields a Support agent fills in during a conversation (the context panel's Details tab).
SUPPORT_FIELDS = [
    ("order_number", "Order number", "text", "", False),
    ("reason", "Reason", "choice", "Delivery\nBilling\nProduct question\nOther", True),
    ("callback_wanted", "Callback wanted", "yes_no", "", False),
]
AGENTS = [("agent1", "Alex Agent", ["Support", "Sales"]), ("agent2", "Blair Agent", ["Support"])]
# Phone calls: the extension a phone system (CTI) names, and where Twilio (or the phone
# simulator of the demo) rings the agent.
PHONES = {"agent1": ("201", "client:agent1"), "agent2": ("202", "client:agent2")}
# Supervisors supervise their teams' services; the administrator supervises (and configures) all.
TEAMS = {"Support team": ["Support"], "Sales team": ["Sales"]}
TEAM_MEMBERS = {
    "Support team": ["supervisor", "agent1", "agent2"],
    "Sales team": ["agent1"],
}
CONTACTS = [
    ("Maria", "García", "Acme Corp", "+14155550100", "maria@example.com"),
    ("John", "Smith", "Globex", "+14155550101", "john.smith@example.com"),
    ("Aiko", "Tanaka", "", "+14155550102", ""),
]


class Command(BaseCommand):
    help = "Load demo users, services, entry points and contacts with past conversations."

    @transaction.atomic
    def handle(self, *args: object, **options: object) -> None:
        services = self._services()
        self._entry_points(services)
        users = self._users(services)
        self._contacts(services, users)
        self._desktop_helpers(services)
        self._teams(services, users)
        self.stdout.write(
            self.style.SUCCESS(
                "Demo data ready: admin/admin (administrator), supervisor/supervisor, "
                "agent1/agent1, agent2/agent2"
            )
        )

    def _services(self) -> dict[str, Service]:
        services = {}
        for name, spec in SERVICES.items():
            service, _ = Service.objects.get_or_create(
                name=name,
                defaults={
                    "channels": spec["channels"],
                    "disposition_required": spec["disposition_required"],
                    "call_recording": spec["call_recording"],
                },
            )
            for position, label in enumerate(spec["dispositions"]):
                Disposition.objects.get_or_create(
                    service=service, name=label, defaults={"position": position}
                )
            services[name] = service
        return services

    def _entry_points(self, services: dict[str, Service]) -> None:
        for name, channel, address, service_name in ENTRY_POINTS:
            entry_point, _ = EntryPoint.objects.get_or_create(
                channel=channel,
                address=address,
                defaults={"name": name, "service": services[service_name]},
            )
            if channel == Channel.EMAIL:
                # No IMAP/SMTP server in the demo: emails out go to the local outbox page, where
                # the customer's emails (and replies) are simulated too.
                EmailMailbox.objects.get_or_create(
                    entry_point=entry_point, defaults={"auto_acknowledge": True}
                )
            if channel == Channel.CHAT:
                # "Call us" in the widget: calls in the browser, with no telephone provider.
                WebChatSettings.objects.get_or_create(
                    entry_point=entry_point, defaults={"web_calls": True}
                )
        EmailSignature.objects.get_or_create(
            service=services["Support"],
            agent=None,
            defaults={"text": "{{ agent.name }}\n{{ service.name }} team, Example Inc."},
        )

    def _users(self, services: dict[str, Service]) -> dict[str, object]:
        user_model = get_user_model()
        users = {}
        admin, created = user_model.objects.get_or_create(
            username="admin", defaults={"is_staff": True, "is_superuser": True}
        )
        if created:
            admin.set_password("admin")
            admin.save()
        user_role_set(actor=None, user=admin, role=roles.ADMINISTRATOR)
        profile, _ = AgentProfile.objects.get_or_create(
            user=admin, defaults={"display_name": "Ada Administrator"}
        )
        profile.services.add(*services.values())
        users["admin"] = admin
        supervisor, created = user_model.objects.get_or_create(username="supervisor")
        if created:
            supervisor.set_password("supervisor")
            supervisor.save()
        user_role_set(actor=None, user=supervisor, role=roles.SUPERVISOR)
        AgentProfile.objects.get_or_create(
            user=supervisor,
            defaults={"display_name": "Sam Supervisor", "state": AgentState.NOT_READY},
        )
        users["supervisor"] = supervisor
        for username, display_name, service_names in AGENTS:
            user, created = user_model.objects.get_or_create(username=username)
            if created:
                user.set_password(username)
                user.save()
            user_role_set(actor=None, user=user, role=roles.AGENT)
            extension, endpoint = PHONES[username]
            profile, _ = AgentProfile.objects.get_or_create(
                user=user,
                defaults={
                    "display_name": display_name,
                    "state": AgentState.NOT_READY,
                    "extension": extension,
                    "voice_endpoint": endpoint,
                },
            )
            profile.services.add(*(services[name] for name in service_names))
            users[username] = user
        return users

    def _teams(self, services: dict[str, Service], users: dict[str, object]) -> None:
        for name, service_names in TEAMS.items():
            team, _ = Team.objects.get_or_create(name=name)
            team.services.add(*(services[service] for service in service_names))
            team.members.add(
                *AgentProfile.objects.filter(user__username__in=TEAM_MEMBERS.get(name, []))
            )

    def _desktop_helpers(self, services: dict[str, Service]) -> None:
        for position, name in enumerate(["Break", "Lunch", "Training", "Meeting"]):
            NotReadyReason.objects.get_or_create(name=name, defaults={"position": position})
        CannedResponse.objects.get_or_create(
            service=None,
            title="Greeting",
            defaults={
                "body": "Hello {{ contact.first_name }}, this is {{ agent.name }}. How can I help?"
            },
        )
        CannedResponse.objects.get_or_create(
            service=services["Support"],
            title="Case number",
            defaults={"body": "Your case number is {{ case }}; keep it for future reference."},
        )
        CannedResponse.objects.get_or_create(
            service=services["Support"],
            title="Returns policy",
            defaults={
                "kind": CannedResponse.Kind.ARTICLE,
                "body": (
                    "Items can be returned within 30 days of delivery, unused and in their "
                    "packaging. The refund reaches the original payment method within 5 working "
                    "days of the item's arrival at our warehouse.\n\n"
                    "Damaged on arrival: no need to send it back; ask for a photo and refund."
                ),
            },
        )
        for position, (key, label, kind, choices, required) in enumerate(SUPPORT_FIELDS):
            CustomFieldDefinition.objects.get_or_create(
                service=services["Support"],
                key=key,
                defaults={
                    "label": label,
                    "kind": kind,
                    "choices": choices,
                    "required": required,
                    "position": position,
                },
            )

    def _contacts(self, services: dict[str, Service], users: dict[str, object]) -> None:
        now = timezone.now()
        for index, (first, last, company, phone, email) in enumerate(CONTACTS):
            if Identity.objects.filter(kind=Identity.Kind.PHONE, value=phone).exists():
                continue
            contact = Contact.objects.create(first_name=first, last_name=last, company=company)
            Identity.objects.create(contact=contact, kind=Identity.Kind.PHONE, value=phone)
            if email:
                Identity.objects.create(contact=contact, kind=Identity.Kind.EMAIL, value=email)
            service = services["Support"]
            opened = now - timedelta(days=3 + index)
            conversation = Conversation.objects.create(
                contact=contact,
                service=service,
                agent=users["agent1"],
                status=Conversation.Status.CLOSED,
                case_state=Conversation.CaseState.CLOSED,
                opened_at=opened,
                closed_at=opened + timedelta(minutes=9),
                last_message_at=opened + timedelta(minutes=8),
                disposition=service.dispositions.first(),
                wrap_up_notes="Explained the billing cycle.",
            )
            interaction = Interaction.objects.create(
                conversation=conversation,
                channel=Channel.SMS,
                direction=Interaction.Direction.INBOUND,
                state=Interaction.State.ENDED,
                customer_address=phone,
                service_address="+15005550006",
                agent=users["agent1"],
                service=service,
                started_at=opened,
                queued_at=opened,
                answered_at=opened + timedelta(seconds=12 + 9 * index),
                ended_at=opened + timedelta(minutes=8),
                wrap_up_ended_at=opened + timedelta(minutes=9),
            )
            if index == len(CONTACTS) - 1:  # and someone who gave up waiting, for the reports
                Interaction.objects.create(
                    conversation=conversation,
                    channel=Channel.SMS,
                    direction=Interaction.Direction.INBOUND,
                    state=Interaction.State.ENDED,
                    customer_address=phone,
                    service_address="+15005550006",
                    service=service,
                    started_at=opened - timedelta(hours=2),
                    queued_at=opened - timedelta(hours=2),
                    abandoned_at=opened - timedelta(hours=2) + timedelta(seconds=75),
                    ended_at=opened - timedelta(hours=2) + timedelta(seconds=75),
                )
            for minute, direction, body in [
                (0, Message.Direction.INBOUND, "Hi, why was I charged twice this month?"),
                (3, Message.Direction.OUTBOUND, f"Hello {first}, let me check that for you."),
                (8, Message.Direction.OUTBOUND, "The second charge was a pre-authorization."),
            ]:
                Message.objects.create(
                    conversation=conversation,
                    interaction=interaction,
                    channel=Channel.SMS,
                    direction=direction,
                    body=body,
                    sender=users["agent1"] if direction == Message.Direction.OUTBOUND else None,
                    status=MessageStatus.RECEIVED
                    if direction == Message.Direction.INBOUND
                    else MessageStatus.DELIVERED,
                    created_at=opened + timedelta(minutes=minute),
                )
