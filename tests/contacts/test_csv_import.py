"""CSV import and export: good rows once, every rejected row reported, re-import idempotent."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from contactcenter.exceptions import ValidationError
from contacts.models import Contact, ContactImport, Identity
from contacts.services import contacts_import_csv, guess_mapping
from contacts.services.csv_import import read_headers, sniff_delimiter
from tests.factories import ContactFactory, IdentityFactory

MIXED = """First name,Last name,Company,Phone,Email,Do not text
Ana,Díaz,Acme,(415) 555-0100,ana@acme.example,no
Bo,Lindqvist,Northwind,+44 20 7946 0958,,yes
Ana,Díaz,Acme,415-555-0100,,
Cy,Ng,,12345,cy@example.com,
Di,Ho,,,not-an-email,
Ed,Ko,,,,
Fay,Wu,,+1 415 555 0177,fay@example.com,perhaps
Gus,Li,Globex,+1 415 555 0188
Hal,Ma,Initech,+1 415 555 0199,hal@initech.example,
"""


def run(content, **kwargs):
    headers = read_headers(content, sniff_delimiter(content))
    return contacts_import_csv(content=content, mapping=guess_mapping(headers), user=None, **kwargs)


def reasons(report):
    return {row["line"]: row["reason"] for row in report.rejected}


@pytest.mark.django_db
def test_import_creates_good_rows_once_and_reports_each_rejected_row_with_line_and_reason():
    report = run(MIXED)

    assert (report.rows, report.created, report.updated, report.unchanged) == (9, 3, 0, 0)
    rejected = reasons(report)
    assert sorted(rejected) == [4, 5, 6, 7, 8, 9]
    assert "Duplicate of line 2" in rejected[4]
    assert "Phone (column 4)" in rejected[5] and "12345" in rejected[5]
    assert "Email (column 5)" in rejected[6] and "not-an-email" in rejected[6]
    assert "No phone, email or other identity" in rejected[7]
    assert "perhaps" in rejected[8] and "yes/no" in rejected[8]
    assert "4 fields; the header has 6" in rejected[9]
    assert Contact.objects.count() == 3
    ana = Identity.objects.get(value="+14155550100").contact
    assert (ana.first_name, ana.last_name, ana.company) == ("Ana", "Díaz", "Acme")
    assert ana.identities.count() == 2
    assert Contact.objects.get(first_name="Bo").do_not_text is True
    assert report.rejected[0]["values"]["First name"] == "Ana"


@pytest.mark.django_db
def test_importing_the_same_file_again_creates_no_duplicates():
    run(MIXED)
    before = sorted(Identity.objects.values_list("contact_id", "kind", "value"))

    again = run(MIXED)

    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    assert len(again.rejected) == 6
    assert Contact.objects.count() == 3
    assert sorted(Identity.objects.values_list("contact_id", "kind", "value")) == before


@pytest.mark.django_db
def test_a_row_matching_a_known_contact_fills_its_blanks_and_adds_identities():
    known = IdentityFactory(kind="phone", value="+14155550100", contact__company="").contact
    known.first_name = "Ana"
    known.save()
    content = "Name,Company,Phone,Email\nAnita Diaz,Acme,4155550100,ana@acme.example\n"

    report = run(content)

    assert report.updated == 1
    known.refresh_from_db()
    assert (known.first_name, known.company) == ("Ana", "Acme")  # a name is never overwritten
    assert known.identities.filter(kind="email", value="ana@acme.example").exists()


@pytest.mark.django_db
def test_overwrite_replaces_existing_values():
    known = IdentityFactory(kind="phone", value="+14155550100", contact__company="Old").contact
    run("Company,Phone\nNew,4155550100\n", overwrite=True)
    known.refresh_from_db()
    assert known.company == "New"


@pytest.mark.django_db
def test_a_row_whose_identities_belong_to_two_contacts_is_rejected_and_changes_nothing():
    IdentityFactory(kind="phone", value="+14155550100", contact__first_name="One")
    IdentityFactory(kind="email", value="two@example.com", contact__first_name="Two")

    report = run("Phone,Email,Company\n4155550100,two@example.com,Merged Inc\n")

    assert "Merge those contacts first" in reasons(report)[2]
    assert not Contact.objects.filter(company="Merged Inc").exists()


@pytest.mark.django_db
def test_several_values_in_one_cell_and_custom_fields_are_imported():
    content = (
        "Full name,Phones,Tier,custom_fields\n"
        'Jo Park,"415 555 0101; 415 555 0102",gold,"{""crm"": ""9""}"\n'
    )
    mapping = {0: "full_name", 1: "phone", 2: "custom:tier", 3: "custom_fields"}

    report = contacts_import_csv(content=content, mapping=mapping, user=None)

    assert report.created == 1
    jo = Contact.objects.get()
    assert (jo.first_name, jo.last_name) == ("Jo", "Park")
    assert jo.custom_fields == {"tier": "gold", "crm": "9"}
    assert sorted(jo.identities.values_list("value", flat=True)) == ["+14155550101", "+14155550102"]


@pytest.mark.django_db
def test_semicolon_separated_files_and_blank_lines_are_understood():
    report = run("Phone;Name\n\n4155550100;Ana\n\n")
    assert (report.created, report.blank_lines, report.rejected) == (1, 2, [])


def test_a_mapping_without_any_identity_column_is_refused():
    with pytest.raises(ValidationError) as error:
        contacts_import_csv(content="Name\nAna\n", mapping={0: "first_name"}, user=None)
    assert error.value.field == "mapping"


def test_a_field_mapped_twice_is_refused():
    with pytest.raises(ValidationError):
        contacts_import_csv(
            content="A,B,C\n1,2,3\n", mapping={0: "company", 1: "company", 2: "phone"}, user=None
        )


def test_headers_are_guessed_from_common_names():
    headers = ["E-mail", "Mobile", "Surname", "Given name", "Organisation", "Shoe size"]
    assert guess_mapping(headers) == {
        0: "email",
        1: "phone",
        2: "last_name",
        3: "first_name",
        4: "company",
        5: "",
    }


# --- Pages ---------------------------------------------------------------------------------


def upload(client, content: bytes, name="contacts.csv"):
    return client.post(
        reverse("contact-import-upload"),
        {"file": SimpleUploadedFile(name, content, content_type="text/csv")},
    )


@pytest.mark.django_db
def test_import_page_maps_columns_then_reports_every_rejected_row(client, supervisor):
    client.force_login(supervisor)

    uploaded = upload(client, MIXED.encode())
    contact_import = ContactImport.objects.get()
    assert uploaded["Location"] == reverse("contact-import", args=[contact_import.pk])
    mapping_page = client.get(uploaded["Location"])
    assert mapping_page.context["form"]["col_3"].initial == "phone"

    data = {f"col_{i}": t for i, t in contact_import.mapping.items()}
    done = client.post(uploaded["Location"], data)
    assert done.status_code == 302
    report_page = client.get(uploaded["Location"]).content.decode()
    assert 'data-count="created">3<' in report_page
    for line in [4, 5, 6, 7, 8, 9]:
        assert f'data-line="{line}"' in report_page
    rejected_csv = b"".join(
        client.get(reverse("contact-import-rejected", args=[contact_import.pk])).streaming_content
    ).decode()
    rows = list(csv.reader(io.StringIO(rejected_csv)))
    assert rows[0][:3] == ["line", "reason", "First name"]
    assert [row[0] for row in rows[1:]] == ["4", "5", "6", "7", "8", "9"]

    assert client.post(uploaded["Location"], data).status_code == 200  # a second submit: no-op
    assert Contact.objects.count() == 3


@pytest.mark.django_db
def test_upload_that_is_not_utf8_is_refused_with_a_clear_error(client, supervisor):
    client.force_login(supervisor)
    response = upload(client, "Phone,Name\n4155550100,Jos\xe9\n".encode("latin-1"))
    assert response.status_code == 400
    assert "UTF-8" in " ".join(response.context["form"].errors["file"])
    assert not ContactImport.objects.exists()


@pytest.mark.django_db
def test_upload_over_the_size_limit_is_refused(client, supervisor, settings):
    settings.CONTACTS_IMPORT_MAX_BYTES = 100
    client.force_login(supervisor)
    response = upload(client, b"Phone\n" + b"4155550100\n" * 20)
    assert response.status_code == 400
    assert "limit is 100" in " ".join(response.context["form"].errors["file"])


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["agent_a", "outsider"])
def test_import_and_export_need_their_permissions(request, client, persona):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(reverse("contact-import-upload")).status_code == 403
    assert client.get(reverse("contact-export")).status_code == 403


# --- Export and the management commands ---------------------------------------------------


def export_rows(client, **params):
    response = client.get(reverse("contact-export"), params)
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


@pytest.mark.django_db
def test_export_has_every_contact_with_identities_and_neutralizes_formulas(client, supervisor):
    ana = ContactFactory(first_name="=HYPERLINK(1)", last_name="Díaz", custom_fields={"t": 1})
    IdentityFactory(contact=ana, kind="phone", value="+14155550100")
    IdentityFactory(contact=ana, kind="phone", value="+14155550101")
    ContactFactory(merged_into=ana)  # merged away: not exported
    client.force_login(supervisor)

    rows = export_rows(client)

    header, row = rows[0], rows[1]
    assert len(rows) == 2
    record = dict(zip(header, row, strict=True))
    assert record["first_name"] == "'=HYPERLINK(1)"
    assert record["phone"] == "+14155550100; +14155550101"
    assert record["custom_fields"] == '{"t": 1}'


@pytest.mark.django_db
def test_export_then_import_round_trips_without_duplicates(client, supervisor, tmp_path):
    ana = ContactFactory(first_name="=Ana", company="Acme", do_not_text=True)
    IdentityFactory(contact=ana, kind="email", value="ana@acme.example")
    IdentityFactory(contact=ana, kind="phone", value="+14155550100")
    path = tmp_path / "contacts.csv"
    call_command("contacts_export", output=str(path))
    Contact.objects.all().delete()

    out = io.StringIO()
    call_command("contacts_import", str(path), stdout=out)
    assert "created 1" in out.getvalue()
    imported = Contact.objects.get()
    assert (imported.first_name, imported.company, imported.do_not_text) == ("=Ana", "Acme", True)
    assert imported.identities.count() == 2

    out = io.StringIO()
    call_command("contacts_import", str(path), stdout=out)
    assert "created 0" in out.getvalue() and "unchanged 1" in out.getvalue()
    assert Contact.objects.count() == 1


@pytest.mark.django_db
def test_import_command_prints_each_rejected_line_and_accepts_explicit_mapping(tmp_path):
    path = tmp_path / "crm.csv"
    path.write_text("Cliente,Telefono\nAna,4155550100\nBo,123\n", encoding="utf-8")
    out = io.StringIO()

    call_command("contacts_import", str(path), map=["Cliente=full_name", "#2=phone"], stdout=out)

    assert "created 1" in out.getvalue()
    assert "line 3:" in out.getvalue()
    assert Contact.objects.get().first_name == "Ana"
