"""Language: the Spanish catalogue is complete and compiled, and pages shown in Spanish carry no
English (tests/support/i18n_scan.py says how a page is scanned). The browser runs of the same scan,
which cover the text the scripts write, are in tests/e2e/test_spanish.py."""

import gettext as gnu_gettext
import os
import shutil
import subprocess
import sys
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from channels_app.conversation_ops import AgentLine
from channels_app.models import (
    ChatSession,
    ChatTranscriptRequest,
    EmailDetails,
    LocalOutboxItem,
)
from contacts.services import contact_merge
from conversations.models import (
    AgentState,
    CannedResponse,
    Channel,
    Conversation,
    Interaction,
    Message,
    MessageStatus,
    NotReadyReason,
    Offer,
)
from conversations.system_lines import all_system_texts, system_text_render
from tests.channels_app.webchat.factories import ChatEntryPointFactory, WebChatSettingsFactory
from tests.conftest import IN_CI
from tests.factories import (
    AgentProfileFactory,
    ContactFactory,
    ConversationFactory,
    DispositionFactory,
    EntryPointFactory,
    IdentityFactory,
    InteractionFactory,
    MessageFactory,
    ServiceFactory,
    UserFactory,
)
from tests.support import po
from tests.support.i18n_scan import CATALOGUE, english_on_page, spanish_found, visible_texts

SPANISH = {"HTTP_ACCEPT_LANGUAGE": "es"}
MO_FILE = CATALOGUE.with_suffix(".mo")

# --- The catalogue ------------------------------------------------------------------------------


def test_the_spanish_catalogue_translates_every_message_and_has_no_fuzzy_entries():
    entries = po.parse(CATALOGUE)
    header = entries[0]
    assert header.is_header and "Language: es" in header.msgstr
    assert not header.fuzzy, "a fuzzy header is dropped by msgfmt (charset, plural forms)"
    messages = entries[1:]
    assert len(messages) > 300
    assert [e.msgid for e in messages if e.obsolete] == [], "obsolete entries: make messages"
    assert [e.msgid for e in messages if e.fuzzy] == [], "fuzzy entries must be reviewed"
    assert [e.msgid for e in messages if not e.translated] == [], "untranslated entries"


def test_translations_keep_every_placeholder_of_their_msgid():
    import re

    placeholder = re.compile(r"%\(\w+\)[-#0 +]*\d*[sd]|%%")
    wrong = []
    for entry in po.parse(CATALOGUE)[1:]:
        expected = sorted(placeholder.findall(entry.msgid_plural or entry.msgid))
        for text in entry.translations:
            found = sorted(placeholder.findall(text))
            if found != expected and not (entry.msgid_plural and set(found) <= set(expected)):
                wrong.append((entry.msgid, text))
    assert wrong == []


def test_the_compiled_catalogue_is_up_to_date_with_the_po_file():
    """The committed .mo holds exactly what the .po says (a fresh checkout runs without gettext,
    so a stale .mo would silently show old or English text)."""
    with MO_FILE.open("rb") as handle:
        compiled = gnu_gettext.GNUTranslations(handle)._catalog
    compiled = {key: value for key, value in compiled.items() if key != ""}
    assert compiled == po.catalogue(CATALOGUE)


def require_gettext_tool(name: str) -> None:
    """Needs Debian's gettext: skipped on a laptop without it, a failure under CI."""
    if shutil.which(name) is None:
        if IN_CI:
            pytest.fail(f"gettext's {name} is required under CI")
        pytest.skip(f"gettext's {name} is not installed")


def test_msgfmt_accepts_the_catalogue_and_compiles_it_to_the_same_messages(tmp_path):
    require_gettext_tool("msgfmt")
    target = tmp_path / "django.mo"
    result = subprocess.run(
        ["msgfmt", "--check-format", "--check-header", "-o", str(target), str(CATALOGUE)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    with target.open("rb") as fresh, MO_FILE.open("rb") as committed:
        assert gnu_gettext.GNUTranslations(fresh)._catalog == (
            gnu_gettext.GNUTranslations(committed)._catalog
        )


def test_every_translatable_string_of_the_code_is_in_the_spanish_catalogue(tmp_path):
    """A string marked for translation but missing from the catalogue would show in English: run
    ``make messages``, translate the new entries and commit the .po and .mo."""
    require_gettext_tool("xgettext")
    root = CATALOGUE.parents[3]
    copy = tmp_path / "project"
    skipped = {".git", ".venv", "locale", "node_modules", "staticfiles", "tests"}
    copy.mkdir()
    for path in root.iterdir():
        if path.name in skipped or path.name.startswith("."):
            continue
        if path.is_dir():
            shutil.copytree(path, copy / path.name, ignore=shutil.ignore_patterns("__pycache__"))
        elif path.suffix in (".py", ".html", ".txt"):
            shutil.copy(path, copy / path.name)
    shutil.copytree(CATALOGUE.parents[1], copy / "locale" / "es")
    env = {**os.environ, "DEBUG": "1", "PYTHONPATH": str(copy)}
    result = subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "es", "--no-obsolete"],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    extracted = po.parse(copy / "locale" / "es" / "LC_MESSAGES" / "django.po")
    missing = [entry.msgid for entry in extracted[1:] if not entry.translated or entry.fuzzy]
    assert missing == [], "not translated yet (make messages, then translate): " + repr(missing)


# --- System texts (system lines, the system's own delivery errors) ------------------------------

PARAMS = {
    "agent": "«A1»",
    "service": "«S1»",
    "target": "«T1»",
    "from_id": 1,
    "from_name": "Ana",
    "to_id": 2,
    "to_name": "Eva",
    "user": "pepe",
    "word": "X1",
    "details": "X1",
    "title": "X1",
    "url": "X1",
    "minutes": "X1",
    "email": "X1",
    "address": "X1",
    "reason": "«R1»",
    "number": "C-1042",
    "time": "2026-12-01 10:00 UTC",
    "name": "«N1»",
    "duration": "1:15",
    "hold": "0:42",
    "digits": "12#",
    "previous": "«P1»",
}


@pytest.mark.parametrize("text", all_system_texts(), ids=lambda text: text.code)
def test_a_system_text_is_stored_as_its_code_and_shown_in_the_readers_language(text):
    """The row keeps the sentence in the site's language (for the API, search, exports) and the
    code with its parameters; a page renders the code in the reader's language."""
    with translation.override("es"):
        stored = text.stored(PARAMS)  # written while a Spanish customer's request runs
    with translation.override("en"):
        assert stored == text.msgid % PARAMS if "%(" in text.msgid else stored == text.msgid
        assert system_text_render(text.code, PARAMS) == stored
    with translation.override("es"):
        shown = system_text_render(text.code, PARAMS)
    assert shown != stored
    assert english_on_page([shown]) == [], text.code
    for name, value in PARAMS.items():
        if f"%({name})s" in text.msgid:
            assert str(value) in shown


def test_an_unknown_code_shows_what_the_row_stored():
    with translation.override("es"):
        assert system_text_render("no-such-code", {}, fallback="As stored") == "As stored"
        assert system_text_render("joined", {}, fallback="As stored") == "As stored"  # no agent


# --- A world to render ---------------------------------------------------------------------------

# Everything people typed or configured (names, message bodies, addresses): it is not UI text, so
# it is removed from the pages before they are scanned.
DATA = (
    "Atención al cliente",
    "Facturación",
    "Lucía Gómez",
    "lucia",
    "supervisora",
    "María García",
    "María",
    "García",
    "José Pérez",
    "Ferretería Martínez",
    "maria@example.es",
    "+34600111222",
    "+34600333444",
    "+15005550006",
    "Hola, ¿me podéis ayudar con el pedido 42?",
    "Claro, ahora mismo lo miro.",
    "Cliente preferente: llamar antes de las 18:00.",
    "Nota: pedido revisado.",
    "Resuelto",
    "Pendiente de llamada",
    "Descanso",
    "Saludo",
    "Hola María, soy Lucía Gómez.",
    "Ayuda en línea",
    "¡Hola! ¿En qué podemos ayudarle?",
    "Chat web",
    "SMS España",
    "Pedido 42 - Tienda",
    "https://tienda.example.es/pedidos/42",
    "https://example.es/foto.jpg",
    "application/pdf",
    "Recuerde su cita de mañana.",
    "«agente»",
    "Soporte correo",
    "soporte@example.es",
    "maria@example.es",
    "C-1042",
    "2026-12-01 10:00 UTC",
)


@pytest.fixture
def world(db):
    """An agent desktop with every kind of thing on it, a supervisor, contacts, a chat."""
    now = timezone.now()
    service = ServiceFactory(name="Atención al cliente", disposition_required=True)
    other_service = ServiceFactory(name="Facturación")
    DispositionFactory(service=service, name="Resuelto")
    resolved = service.dispositions.get()
    DispositionFactory(service=service, name="Pendiente de llamada", is_final=False)
    NotReadyReason.objects.create(name="Descanso")
    CannedResponse.objects.create(
        title="Saludo", body="Hola {{ contact.first_name }}, soy {{ agent.name }}."
    )
    EntryPointFactory(name="SMS España", address="+15005550006", service=service)
    agent = AgentProfileFactory(
        user__username="lucia", display_name="Lucía Gómez", services=[service]
    ).user
    supervisor = UserFactory(username="supervisora", is_staff=True, is_superuser=True)
    AgentProfileFactory(user=supervisor, display_name="supervisora", state=AgentState.NOT_READY)

    maria = ContactFactory(
        first_name="María",
        last_name="García",
        company="Ferretería Martínez",
        notes="Cliente preferente: llamar antes de las 18:00.",
        do_not_text=True,
    )
    IdentityFactory(contact=maria, kind="phone", value="+34600111222")
    IdentityFactory(contact=maria, kind="email", value="maria@example.es")

    # The open conversation: SMS and chat legs, every kind of message.
    open_conversation = ConversationFactory(contact=maria, service=service, agent=agent)
    sms = InteractionFactory(
        conversation=open_conversation, channel=Channel.SMS, customer_address="+34600111222"
    )
    chat = InteractionFactory(
        conversation=open_conversation, channel=Channel.CHAT, customer_address=""
    )
    MessageFactory(interaction=sms, body="Hola, ¿me podéis ayudar con el pedido 42?")
    MessageFactory(
        interaction=sms,
        body="",
        attachments=[
            {"url": "https://example.es/foto.jpg", "content_type": "image/jpeg"},
            {"url": "https://example.es/foto.jpg", "content_type": "application/pdf"},
        ],
    )
    for status in (MessageStatus.QUEUED, MessageStatus.DELIVERED, MessageStatus.READ):
        MessageFactory(
            interaction=sms,
            direction=Message.Direction.OUTBOUND,
            sender=agent,
            body="Claro, ahora mismo lo miro.",
            status=status,
        )
    MessageFactory(
        interaction=chat,
        direction=Message.Direction.OUTBOUND,
        sender=agent,
        body="Claro, ahora mismo lo miro.",
        status=MessageStatus.FAILED,
        error_code=AgentLine.CHAT_NOT_DELIVERED.code,
        error_message=AgentLine.CHAT_NOT_DELIVERED.stored(),
    )
    MessageFactory(
        interaction=sms,
        direction=Message.Direction.INTERNAL,
        kind=Message.Kind.NOTE,
        sender=agent,
        body="Nota: pedido revisado.",
    )
    params = {
        "agent": "«agente»",
        "service": "Facturación",
        "target": "«agente»",
        "from_id": maria.pk,
        "from_name": "María García",
        "to_id": maria.pk,
        "to_name": "María García",
        "user": "lucia",
        "word": "STOP",
        "details": "María García, maria@example.es",
        "title": "Pedido 42 - Tienda",
        "url": "https://tienda.example.es/pedidos/42",
        "minutes": 10,
        "email": "maria@example.es",
        "number": "C-1042",
        "time": "2026-12-01 10:00 UTC",
        "name": "Lucía",
        "duration": "1:15",
        "hold": "0:42",
        "digits": "12#",
        "previous": "Ana",
        "reason": "Pendiente de llamada",
        "address": "maria@example.es",
    }
    for text in all_system_texts():
        used = {name: str(value) for name, value in params.items() if f"%({name})s" in text.msgid}
        MessageFactory(
            interaction=chat,
            direction=Message.Direction.INTERNAL,
            kind=Message.Kind.SYSTEM,
            body=text.stored(used),
            system_code=text.code,
            system_params=used,
        )
    session = ChatSession.objects.create(
        entry_point=ChatEntryPointFactory(name="Chat web", address="web", service=service),
        visitor_id="v" * 32,
        conversation=open_conversation,
        interaction=chat,
        page_url="https://tienda.example.es/pedidos/42",
        page_title="Pedido 42 - Tienda",
        page_changed_at=now,
    )
    ChatTranscriptRequest.objects.create(session=session, email="maria@example.es")
    WebChatSettingsFactory(
        entry_point=session.entry_point,
        title="Ayuda en línea",
        greeting="¡Hola! ¿En qué podemos ayudarle?",
    )

    # An email leg: the customer's email (subject, copy, quoted history, formatted version, a
    # file too large to keep), the agent's answer; a mailbox; a case parked in My queue and an
    # email waiting in the service queue.
    EntryPointFactory(name="Soporte correo", channel="email", address="soporte@example.es",
                      service=service)  # fmt: skip
    email = InteractionFactory(
        conversation=open_conversation,
        channel=Channel.EMAIL,
        customer_address="maria@example.es",
        service_address="soporte@example.es",
    )
    inbound_email = MessageFactory(
        interaction=email, body="Hola, ¿me podéis ayudar con el pedido 42?"
    )
    EmailDetails.objects.create(
        message=inbound_email,
        header_id="pedido42@example.es",
        subject="Pedido 42 - Tienda",
        from_address="maria@example.es",
        from_name="María García",
        to=["soporte@example.es"],
        cc=["maria@example.es"],
        html="<p>Hola <img src='https://example.es/foto.jpg'></p>",
        quoted_text="> Recuerde su cita de mañana.",
        skipped_attachments=[{"filename": "Pedido 42 - Tienda", "size": 9, "reason": "too_large"}],
    )
    auto = MessageFactory(interaction=email, body="Recuerde su cita de mañana.")
    EmailDetails.objects.create(
        message=auto, header_id="auto@example.es", kind="auto_reply", signature="María García"
    )
    ConversationFactory(
        contact=maria,
        service=service,
        agent=agent,
        case_state=Conversation.CaseState.PENDING,
        pending_reason="Pendiente de llamada",
        follow_up_at=now + timedelta(days=1),
    )
    InteractionFactory(
        conversation__contact=maria,
        conversation__service=service,
        conversation__agent=None,
        service=service,
        agent=None,
        channel=Channel.EMAIL,
        state=Interaction.State.QUEUED,
        queued_at=now,
        customer_address="maria@example.es",
    )

    # Offers waiting for the agent: a new conversation and a transfer.
    jose = ContactFactory(first_name="José", last_name="Pérez")
    for is_transfer in (False, True):
        offered = InteractionFactory(
            conversation__contact=jose,
            conversation__service=service,
            conversation__agent=None,
            agent=None,
            state=Interaction.State.OFFERED,
            customer_address="+34600333444",
        )
        Offer.objects.create(
            interaction=offered,
            agent=agent,
            is_transfer=is_transfer,
            expires_at=now + timedelta(minutes=5),
        )

    # In wrap-up, and closed (an Activity with a disposition).
    wrap_up = ConversationFactory(
        contact=maria,
        service=service,
        agent=agent,
        status=Conversation.Status.WRAP_UP,
        wrap_up_started_at=now,
    )
    InteractionFactory(conversation=wrap_up, state=Interaction.State.ENDED, ended_at=now)
    closed = ConversationFactory(
        contact=maria,
        service=service,
        agent=agent,
        status=Conversation.Status.CLOSED,
        disposition=resolved,
        wrap_up_notes="Nota: pedido revisado.",
        closed_at=now,
    )
    InteractionFactory(conversation=closed, state=Interaction.State.ENDED, ended_at=now)

    # A merge in the contact's history; an SMS in the local outbox.
    twin = ContactFactory(first_name="María", last_name="García")
    IdentityFactory(contact=twin, kind="phone", value="+34600333444")
    contact_merge(survivor=maria, merged=twin, user=supervisor)
    LocalOutboxItem.objects.create(
        message_id=1,
        from_address="+15005550006",
        to_address="+34600111222",
        body="Recuerde su cita de mañana.",
    )
    return {
        "agent": agent,
        "supervisor": supervisor,
        "contact": maria,
        "open": open_conversation,
        "wrap_up": wrap_up,
        "closed": closed,
        "other_service": other_service,
    }


def agent_pages(world) -> list[str]:
    conversation = world["open"]
    return [
        reverse("desktop"),
        reverse("conversation-detail", args=[conversation.pk]),
        reverse("conversation-detail", args=[world["wrap_up"].pk]),
        reverse("conversation-list-fragment"),
        reverse("conversation-messages", args=[conversation.pk]),
        reverse("channels-conversation-panel", args=[conversation.pk]),
        reverse("contact-list"),
        reverse("contact-list") + "?q=nadie-se-llama-asi",
        reverse("contact-detail", args=[world["contact"].pk]),
        reverse("contact-activity-timeline", args=[world["closed"].pk]),
        reverse("contact-activity-timeline", args=[conversation.pk]) + "?partial=1",
        reverse("contact-create"),
    ]


def supervisor_pages(world) -> list[str]:
    contact = world["contact"]
    return [
        reverse("floor"),
        reverse("floor-panel", args=["services"]),
        reverse("floor-panel", args=["agents"]),
        reverse("floor-panel", args=["conversations"]),
        reverse("monitor", args=[world["open"].pk]),
        reverse("monitor-messages", args=[world["open"].pk]),
        reverse("admin:reports") + "?by=agent",
        reverse("admin:reports-dispositions"),
        reverse("channels-outbox"),  # a demo tool: demo mode, supervisors only
        reverse("contact-merge-pick", args=[contact.pk]) + "?q=García",
        reverse("contact-import-upload"),
        reverse("contact-activity-move", args=[world["closed"].pk]) + "?q=García",
    ]


def public_pages() -> list[str]:
    return [
        reverse("login"),
        reverse("webchat-page", args=["web"]),
        reverse("webchat-page", args=["web"]) + "?embed=1",
        reverse("webchat-page", args=["no-such-chat"]),
        reverse("webchat-demo", args=["web"]),
    ]


def assert_spanish(client, url: str) -> set[str]:
    response = client.get(url, **SPANISH)
    assert response.status_code in (200, 404), (url, response.status_code)
    html = response.content.decode()
    texts = visible_texts(html)
    assert english_on_page(texts, data=DATA) == [], url
    return spanish_found(texts, data=DATA)


@pytest.mark.django_db
def test_pages_shown_in_spanish_have_no_english(client, world, settings):
    """Desktop (offers, every kind of message, composer, wrap-up form), the workspace fragments,
    contacts (list, contact with Activities and merge history, timelines), the SMS outbox, the
    supervisor's queues, login and the customer's chat page in every state it can show."""
    settings.DEMO_MODE = True
    found: set[str] = set()
    client.force_login(world["agent"])
    for url in agent_pages(world):
        found |= assert_spanish(client, url)
    client.force_login(world["supervisor"])
    for url in supervisor_pages(world):
        found |= assert_spanish(client, url)
    client.logout()
    for url in public_pages():
        found |= assert_spanish(client, url)
    # The scan saw the pages in Spanish (not empty pages, not English ones it failed to spot).
    expected = {
        "Conversaciones activas",
        "Aceptar",
        "Rechazar",
        "Transferencia",
        "Disposición",
        "Cierre",
        "Nota interna",
        "Actividades",
        "Historial de fusiones",
        "Sala",
        "Conversaciones en curso",
        "Susurrar",
        "Informes",
        "Iniciar sesión",
        "Antes de empezar",
        "Bandeja de salida local",
        "Mi cola",
        "Versión con formato",
        "Texto citado",
        "Asunto",
        "Caso",
        "Pendiente o resuelto…",
        "Simular el correo de un cliente",
        "Entregado",
        "Trabajo posterior a la llamada",
    }
    assert expected <= found, expected - found


@pytest.mark.django_db
def test_the_scan_finds_the_english_of_the_same_pages_shown_in_english(client, world):
    """The scan is not blind: in English, every page is full of findings."""
    client.force_login(world["agent"])
    for url in [*agent_pages(world)[:3], reverse("contact-detail", args=[world["contact"].pk])]:
        page = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
        assert len(english_on_page(visible_texts(page), data=DATA)) > 10, url
    client.logout()
    page = client.get(reverse("webchat-page", args=["web"]), HTTP_ACCEPT_LANGUAGE="en")
    findings = english_on_page(visible_texts(page.content.decode()), data=DATA)
    assert any("We are closed right now." in finding for finding in findings)


def test_the_scan_catches_english_that_is_in_no_catalogue():
    assert english_on_page(["Please wait while the thing loads"]) != []
    assert english_on_page(["Transferir a", "Espere mientras se carga"]) == []


@pytest.mark.django_db
def test_system_lines_and_delivery_errors_are_shown_in_the_agents_language(client, world):
    client.force_login(world["agent"])
    url = reverse("conversation-detail", args=[world["open"].pk])

    spanish = client.get(url, **SPANISH).content.decode()
    english = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "El cliente colgó. Tiempo de conversación 1:15, en espera 0:42." in spanish
    assert "El cliente ha salido del chat; el mensaje no se entregó." in spanish
    assert "The customer hung up. Talk time 1:15, on hold 0:42." in english
    assert "The customer has left the chat; the message was not delivered." in english
    # A line older than the page's newest messages, on an earlier page of the timeline.
    asked = Message.objects.get(conversation=world["open"], system_code="asked_to_take_over")
    earlier = reverse("contact-activity-timeline", args=[world["open"].pk])
    earlier += f"?before={asked.pk + 1}"
    assert "«agente» pidió a «agente» que se haga cargo." in (
        client.get(earlier, **SPANISH).content.decode()
    )
    assert "«agente» asked «agente» to take over." in (
        client.get(earlier, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    )


# --- Whose language: the agent's profile, else the browser ---------------------------------------


@pytest.mark.django_db
def test_an_agent_whose_profile_says_spanish_gets_spanish_with_an_english_browser(client):
    agent = AgentProfileFactory(language="es").user
    client.force_login(agent)

    response = client.get("/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")

    page = response.content.decode()
    assert '<html lang="es">' in page
    assert "Conversaciones activas" in page
    assert "Active Conversations" not in page
    assert response["Content-Language"] == "es"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("browser", "language", "heading"),
    [
        ("es-ES,es;q=0.9", "es", "Conversaciones activas"),
        ("en-US,en", "en", "Active Conversations"),
    ],
)
def test_an_agent_without_a_profile_language_follows_the_browser(
    client, browser, language, heading
):
    agent = AgentProfileFactory(language="").user
    client.force_login(agent)

    page = client.get("/", HTTP_ACCEPT_LANGUAGE=browser).content.decode()

    assert f'<html lang="{language}">' in page
    assert heading in page


@pytest.mark.django_db
def test_an_english_profile_wins_over_a_spanish_browser(client):
    agent = AgentProfileFactory(language="en").user
    client.force_login(agent)

    page = client.get("/", **SPANISH).content.decode()

    assert "Active Conversations" in page


@pytest.mark.django_db
def test_domain_errors_reach_the_agent_in_their_language(client):
    agent = AgentProfileFactory(language="es").user
    client.force_login(agent)

    response = client.post(reverse("agent-state"), {"state": "busy"})

    assert response.status_code == 400
    assert response.json()["error"]["message"] == "Los agentes pueden elegir Listo o No listo."


@pytest.mark.django_db
def test_message_times_are_shown_in_the_agents_time_zone(client):
    agent = AgentProfileFactory(time_zone="America/Mexico_City").user
    message = MessageFactory(interaction__conversation__agent=agent)
    client.force_login(agent)

    page = client.get(
        reverse("conversation-messages", args=[message.conversation_id]), **SPANISH
    ).content.decode()

    local = timezone.localtime(message.created_at, timezone=_zone("America/Mexico_City"))
    assert f">{local:%H:%M}</time>" in page


def _zone(name: str):
    import zoneinfo

    return zoneinfo.ZoneInfo(name)
