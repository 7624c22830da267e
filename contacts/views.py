"""Contacts pages for agents: thin adapters over selectors and services."""

import csv

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from contactcenter.exceptions import Conflict, PermissionDenied, ValidationError

from . import ports, selectors, services
from .forms import (
    ContactCreateForm,
    ContactForm,
    IdentityForm,
    ImportMappingForm,
    ImportUploadForm,
    SearchForm,
    merge_choices_from_post,
    merge_rows,
    merge_selected,
)
from .models import Contact, ContactImport
from .permissions import can_export, can_import, can_merge, can_view_contacts

ACTIVITIES_PER_PAGE = 20
MERGE_SEARCH_PAGE = 10
DEFAULT_IMPORT_MAX_BYTES = 5 * 1024 * 1024


def _require(allowed: bool, message: str) -> None:
    if not allowed:
        raise PermissionDenied(message)


def _require_viewer(request: HttpRequest) -> None:
    _require(can_view_contacts(request.user), _("Only agents and supervisors work with contacts."))


def _permissions(request: HttpRequest) -> dict:
    return {
        "can_merge": can_merge(request.user),
        "can_import": can_import(request.user),
        "can_export": can_export(request.user),
    }


# --- List and search ------------------------------------------------------------------------


@login_required
@require_GET
def contact_list(request: HttpRequest) -> HttpResponse:
    _require_viewer(request)
    form = SearchForm(request.GET)
    query = form.cleaned_data["q"] if form.is_valid() else ""
    contacts = selectors.with_identities(selectors.contact_search(query=query))
    page = Paginator(contacts, selectors.PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "contacts/list.html",
        {"form": form, "query": query, "page": page, **_permissions(request)},
    )


# --- One contact ----------------------------------------------------------------------------


def _activities(request: HttpRequest, contact: Contact):
    provider = ports.activities_provider()
    if provider is None:
        return None
    return provider(
        contact=contact,
        user=request.user,
        page=request.GET.get("page", 1),
        per_page=ACTIVITIES_PER_PAGE,
    )


def _render_detail(
    request: HttpRequest,
    contact: Contact,
    *,
    form: ContactForm | None = None,
    identity_form: IdentityForm | None = None,
    identity_conflict: Conflict | None = None,
    status: int = 200,
) -> HttpResponse:
    context = {
        "contact": contact,
        "identities": list(contact.identities.all()),
        "form": form or ContactForm(contact=contact),
        "identity_form": identity_form or IdentityForm(),
        "identity_conflict": identity_conflict.extra if identity_conflict else None,
        "activities": _activities(request, contact),
        "dial_url": ports.phone_dial_url(request.user, contact.pk),
        "merges": selectors.contact_merges(contact=contact),
        **_permissions(request),
    }
    return render(request, "contacts/detail.html", context, status=status)


def _current_contact(request: HttpRequest, pk: int) -> Contact | HttpResponse:
    """The contact, or a redirect to the one it was merged into."""
    _require_viewer(request)
    contact = selectors.contact_get(pk=pk)
    if contact.merged_into_id:
        messages.info(
            request,
            _("Contact #%(merged)s was merged into this contact.") % {"merged": contact.pk},
        )
        return redirect("contact-detail", contact.merged_into_id)
    return contact


@login_required
@require_GET
def contact_detail(request: HttpRequest, pk: int) -> HttpResponse:
    contact = _current_contact(request, pk)
    if isinstance(contact, HttpResponse):
        return contact
    return _render_detail(request, contact)


def _add_domain_error(form, exc: ValidationError, default_field: str | None = None) -> None:
    field = exc.field if exc.field in form.fields else default_field
    form.add_error(field, exc.message)


@login_required
@require_POST
def contact_edit(request: HttpRequest, pk: int) -> HttpResponse:
    contact = _current_contact(request, pk)
    if isinstance(contact, HttpResponse):
        return contact
    form = ContactForm(request.POST, contact=contact)
    if form.is_valid():
        try:
            services.contact_update(contact=contact, user=request.user, data=form.cleaned_data)
        except ValidationError as exc:
            _add_domain_error(form, exc)
        else:
            messages.success(request, _("Contact saved."))
            return redirect("contact-detail", contact.pk)
    return _render_detail(request, contact, form=form, status=400)


@login_required
@require_POST
def identity_add(request: HttpRequest, pk: int) -> HttpResponse:
    contact = _current_contact(request, pk)
    if isinstance(contact, HttpResponse):
        return contact
    form = IdentityForm(request.POST)
    conflict = None
    if form.is_valid():
        try:
            services.identity_add(
                contact=contact,
                kind=form.cleaned_data["kind"],
                value=form.cleaned_data["value"],
                user=request.user,
            )
        except ValidationError as exc:
            _add_domain_error(form, exc, default_field="value")
        except Conflict as exc:
            conflict = exc
            form.add_error("value", exc.message)
        else:
            messages.success(request, _("Identity added."))
            return redirect("contact-detail", contact.pk)
    status = 409 if conflict else 400
    return _render_detail(
        request, contact, identity_form=form, identity_conflict=conflict, status=status
    )


@login_required
@require_POST
def identity_remove(request: HttpRequest, pk: int, identity_pk: int) -> HttpResponse:
    contact = _current_contact(request, pk)
    if isinstance(contact, HttpResponse):
        return contact
    identity = selectors.identity_get(contact=contact, pk=identity_pk)
    services.identity_remove(identity=identity, user=request.user)
    messages.success(request, _("Identity removed."))
    return redirect("contact-detail", contact.pk)


@login_required
@require_http_methods(["GET", "POST"])
def contact_create(request: HttpRequest) -> HttpResponse:
    _require_viewer(request)
    form = ContactCreateForm(request.POST or None)
    conflict = None
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        identity_fields = [name for name in ("phone", "email") if data.get(name)]
        identities = [(name, data.pop(name)) for name in identity_fields]
        data.pop("phone", None)
        data.pop("email", None)
        try:
            contact = services.contact_create(user=request.user, identities=identities, **data)
        except (ValidationError, Conflict) as exc:
            field = exc.field or ""
            if field.startswith("identities["):
                index = int(field[len("identities[") :].split("]")[0])
                field = identity_fields[index]
            form.add_error(field if field in form.fields else None, exc.message)
            conflict = exc.extra if isinstance(exc, Conflict) else None
        else:
            messages.success(request, _("Contact created."))
            return redirect("contact-detail", contact.pk)
    status = 200 if request.method == "GET" else 400
    return render(
        request, "contacts/create.html", {"form": form, "conflict": conflict}, status=status
    )


# --- Merge ----------------------------------------------------------------------------------


def _require_merge(request: HttpRequest) -> None:
    _require(can_merge(request.user), _("You do not have permission to merge contacts."))


@login_required
@require_GET
def merge_pick(request: HttpRequest, pk: int) -> HttpResponse:
    _require_merge(request)
    contact = _current_contact(request, pk)
    if isinstance(contact, HttpResponse):
        return contact
    form = SearchForm(request.GET)
    query = form.cleaned_data["q"] if form.is_valid() else ""
    page = None
    if query:
        found = selectors.contact_search(query=query).exclude(pk=contact.pk)
        page = Paginator(selectors.with_identities(found), MERGE_SEARCH_PAGE).get_page(
            request.GET.get("page")
        )
    return render(
        request, "contacts/merge_pick.html", {"contact": contact, "form": form, "page": page}
    )


@login_required
@require_http_methods(["GET", "POST"])
def merge_preview(request: HttpRequest, pk: int, other_pk: int) -> HttpResponse:
    """Both contacts side by side; choose the survivor and, per field, the value that wins."""
    _require_merge(request)
    contact = _current_contact(request, pk)
    if isinstance(contact, HttpResponse):
        return contact
    other = selectors.contact_get(pk=other_pk)
    if other.merged_into_id or other.pk == contact.pk:
        messages.error(request, _("That contact cannot be merged with this one."))
        return redirect("contact-merge-pick", contact.pk)
    error = ""
    if request.method == "POST":
        survivor, merged = (
            (other, contact) if request.POST.get("survivor") == str(other.pk) else (contact, other)
        )
        try:
            merge = services.contact_merge(
                survivor=survivor,
                merged=merged,
                field_choices=merge_choices_from_post(request.POST, survivor, merged),
                user=request.user,
            )
        except (ValidationError, Conflict) as exc:
            error = exc.message
        else:
            messages.success(
                request,
                _("Contact #%(merged)s was merged into this contact. You can undo it below.")
                % {"merged": merge.merged_id},
            )
            return redirect("contact-detail", merge.survivor_id)
    defaults = services.merge_default_choices(contact, other)
    provider = ports.activities_provider()
    counts = {}
    if provider is not None:
        for side in (contact, other):
            counts[side.pk] = provider(
                contact=side, user=request.user, page=1, per_page=1
            ).paginator.count
    context = {
        "contact": contact,
        "other": other,
        "rows": merge_rows(contact, other, merge_selected(defaults, contact, other)),
        "contact_conversations": counts.get(contact.pk),
        "other_conversations": counts.get(other.pk),
        "contact_identities": list(contact.identities.all()),
        "other_identities": list(other.identities.all()),
        "error": error,
    }
    return render(request, "contacts/merge_preview.html", context, status=409 if error else 200)


@login_required
@require_POST
def merge_undo(request: HttpRequest, pk: int) -> HttpResponse:
    _require_merge(request)
    merge = services.contact_merge_undo(merge=selectors.contact_merge_get(pk=pk), user=request.user)
    messages.success(
        request,
        _("Merge undone: contact #%(merged)s is separate again.") % {"merged": merge.merged_id},
    )
    return redirect("contact-detail", merge.survivor_id)


# --- Import and export ----------------------------------------------------------------------


def _require_import(request: HttpRequest) -> None:
    _require(can_import(request.user), _("You do not have permission to import contacts."))


@login_required
@require_http_methods(["GET", "POST"])
def import_upload(request: HttpRequest) -> HttpResponse:
    _require_import(request)
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        limit = getattr(settings, "CONTACTS_IMPORT_MAX_BYTES", DEFAULT_IMPORT_MAX_BYTES)
        upload = form.cleaned_data["file"]
        try:
            contact_import = services.contact_import_start(
                user=request.user,
                filename=upload.name,
                data=upload.read(limit + 1),
                max_bytes=limit,
            )
        except ValidationError as exc:
            form.add_error("file", exc.message)
        else:
            return redirect("contact-import", contact_import.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "contacts/import_upload.html", {"form": form}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Map the columns of an uploaded file and run it; afterwards, its report."""
    _require_import(request)
    contact_import = selectors.contact_import_get(pk=pk)
    form = None
    status = 200
    if contact_import.status == ContactImport.Status.PENDING:
        form = ImportMappingForm(
            request.POST or None,
            headers=contact_import.headers,
            initial_mapping=contact_import.mapping,
        )
        if request.method == "POST" and form.is_valid():
            try:
                services.contact_import_run(
                    contact_import=contact_import,
                    mapping=form.mapping(),
                    user=request.user,
                    overwrite=form.cleaned_data["overwrite"],
                )
            except ValidationError as exc:
                form.add_error(None, exc.message)
                status = 400
            else:
                return redirect("contact-import", contact_import.pk)
    return render(
        request,
        "contacts/import_detail.html",
        {"contact_import": contact_import, "form": form, "report": contact_import.report},
        status=status,
    )


class _Echo:
    def write(self, value: str) -> str:
        return value


@login_required
@require_GET
def import_rejected_csv(request: HttpRequest, pk: int) -> HttpResponse:
    """The rejected rows of an import, with line and reason, to fix and import again."""
    _require_import(request)
    contact_import = selectors.contact_import_get(pk=pk)
    rejected = contact_import.report.get("rejected", [])
    writer = csv.writer(_Echo())
    headers = contact_import.headers

    def rows():
        yield writer.writerow(["line", "reason", *headers])
        for item in rejected:
            values = item.get("values", {})
            cells = [selectors.csv_safe(str(values.get(h, ""))) for h in headers]
            yield writer.writerow([item["line"], item["reason"], *cells])

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-{pk}-rejected.csv"'
    return response


@login_required
@require_GET
def contacts_export(request: HttpRequest) -> HttpResponse:
    """All contacts (or the current search) as CSV, streamed; the importer reads it back."""
    _require(can_export(request.user), _("You do not have permission to export contacts."))
    writer = csv.writer(_Echo())
    query = request.GET.get("q", "")
    rows = (writer.writerow(row) for row in selectors.contacts_export_rows(query=query))
    response = StreamingHttpResponse(rows, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="contacts.csv"'
    return response
