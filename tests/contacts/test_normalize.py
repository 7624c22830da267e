"""Phone numbers are normalized to E.164; what cannot be read is said in plain words, in the
reader's language, never in the phone library's own English ("(1) The string supplied …")."""

import pytest
from django.utils import translation

from contactcenter.exceptions import ValidationError
from contacts.normalize import normalize_phone


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("(415) 555-0100", "+14155550100"), ("+44 20 7946 0958", "+442079460958")],
)
def test_common_formats_become_e164(raw, expected, settings):
    settings.DEFAULT_PHONE_REGION = "US"
    assert normalize_phone(raw) == expected


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ("hello", "is not a phone number: write its digits"),
        ("+999 1234", "write it with its country code"),
        ("+1 415 555 0100 555 555 555 555", "is too long to be a phone number"),
        ("4155", "is not a valid phone number"),
    ],
)
def test_a_number_that_cannot_be_read_is_explained_in_plain_words(raw, words, settings):
    settings.DEFAULT_PHONE_REGION = "US"
    with pytest.raises(ValidationError) as error:
        normalize_phone(raw, field="To")
    message = str(error.value.message)
    assert words in message and raw in message
    assert error.value.field == "To"
    assert "string supplied" not in message and "(" not in message.replace(f"'{raw}'", "")


def test_the_explanation_is_translated(settings):
    settings.DEFAULT_PHONE_REGION = "US"
    with translation.override("es"), pytest.raises(ValidationError) as error:
        normalize_phone("hello")
    assert "no es un número de teléfono" in str(error.value.message)
