"""公民身份号码 (GB 11643, ISO 7064 MOD 11-2), phone numbers, masking and field encryption."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.test import override_settings
from hypothesis import given, settings
from hypothesis import strategies as st

from members import crypto
from members.choices import Sex
from members.validators import (
    id_birth_date,
    id_check_digit,
    id_sex,
    mask_id_number,
    mask_phone,
    validate_id_number,
    validate_phone,
)

# GB 11643-1999 Annex worked example: 11010519491231002X (female, 1949-12-31).
KNOWN_VALID = "11010519491231002X"


def make_id(region: str, born: date, seq: int) -> str:
    first17 = f"{region}{born:%Y%m%d}{seq:03d}"
    return first17 + id_check_digit(first17)


ids = st.builds(
    make_id,
    st.sampled_from(["110101", "110105", "310104", "370781", "440305", "650102", "810000"]),
    st.dates(min_value=date(1900, 1, 1), max_value=date(2020, 12, 31)),
    st.integers(min_value=0, max_value=999),
)


def test_known_example_and_check_digit_table():
    assert validate_id_number(KNOWN_VALID) == KNOWN_VALID
    assert validate_id_number(KNOWN_VALID.lower()) == KNOWN_VALID  # normalized to upper-case X
    assert id_birth_date(KNOWN_VALID) == date(1949, 12, 31)
    assert id_sex(KNOWN_VALID) == Sex.FEMALE
    assert id_check_digit("11010519491231002") == "X"


@given(ids)
@settings(max_examples=300, deadline=None)
def test_generated_valid_ids_pass_and_agree_with_their_own_birth_date_and_sex(number):
    assert validate_id_number(number, birth_date=id_birth_date(number), sex=id_sex(number)) == number


@given(ids, st.integers(min_value=0, max_value=17), st.integers(min_value=1, max_value=10))
@settings(max_examples=500, deadline=None)
def test_every_one_character_mutation_fails(number, position, shift):
    alphabet = "0123456789X" if position == 17 else "0123456789"
    current = alphabet.index(number[position])
    replacement = alphabet[(current + shift) % len(alphabet)]
    if replacement == number[position]:
        return
    mutated = number[:position] + replacement + number[position + 1 :]
    with pytest.raises(ValidationError):
        validate_id_number(mutated)


def test_exhaustive_single_digit_mutations_of_one_number():
    number = make_id("370781", date(1985, 3, 15), 123)
    for position in range(18):
        for replacement in "0123456789X" if position == 17 else "0123456789":
            if replacement == number[position]:
                continue
            with pytest.raises(ValidationError):
                validate_id_number(number[:position] + replacement + number[position + 1 :])


@given(st.one_of(st.none(), st.text(max_size=40), st.integers(), st.floats(allow_nan=True), st.binary(max_size=20)))
@settings(max_examples=400, deadline=None)
def test_no_input_raises_anything_but_validation_error(value):
    for check in (validate_id_number, validate_phone):
        try:
            check(value)
        except ValidationError as exc:
            assert exc.messages and all(isinstance(m, str) for m in exc.messages)


@pytest.mark.parametrize(
    "value,message",
    [
        ("", "请填写"),
        ("110105491231002", "18 位"),  # old 15-digit number
        ("1101051949123100", "18 位"),
        ("11010519491231002Y", "18 位"),
        ("99010519491231002X", "省级行政区划"),
        ("110105194913310026", "出生日期"),  # month 13
        ("110105189912310021", "合理范围"),
        ("110105194912310021", "校验位"),
    ],
)
def test_invalid_ids_have_chinese_reasons(value, message):
    with pytest.raises(ValidationError) as exc:
        validate_id_number(value)
    assert message in exc.value.messages[0]


def test_future_birth_date_refused_when_today_given():
    tomorrow = date(2026, 5, 2)
    number = make_id("110101", tomorrow, 1)
    with pytest.raises(ValidationError, match="合理范围"):
        validate_id_number(number, today=tomorrow - timedelta(days=1))


def test_id_must_agree_with_birth_date_and_sex():
    number = make_id("110101", date(1990, 1, 2), 11)  # 17th digit 1 → male
    assert validate_id_number(number, birth_date=date(1990, 1, 2), sex=Sex.MALE) == number
    with pytest.raises(ValidationError, match="出生日期 1990-01-02 与填写的出生日期不一致"):
        validate_id_number(number, birth_date=date(1990, 1, 3))
    with pytest.raises(ValidationError, match="性别"):
        validate_id_number(number, sex=Sex.FEMALE)
    female = make_id("110101", date(1990, 1, 2), 12)
    assert validate_id_number(female, sex=Sex.FEMALE) == female


@pytest.mark.parametrize(
    "raw,normalized",
    [
        ("13812345678", "13812345678"),
        ("138 1234 5678", "13812345678"),
        ("+86 199-1234-5678", "19912345678"),
        ("010-62345678", "010-62345678"),
        ("01062345678", "010-62345678"),
        ("(0536)8234567", "0536-8234567"),
        ("0536-32345678-801", "0536-32345678-801"),
        ("053632345678", "0536-32345678"),
        ("021-5555666", "021-5555666"),
    ],
)
def test_valid_phones_are_normalized(raw, normalized):
    assert validate_phone(raw) == normalized


@pytest.mark.parametrize(
    "raw",
    ["12812345678", "1381234567", "138123456789", "62345678", "010-1234", "0536-0123456", "010-12345678", "abc", "110"],
)
def test_invalid_phones_refused_in_chinese(raw):
    with pytest.raises(ValidationError) as exc:
        validate_phone(raw)
    assert "联系电话" in exc.value.messages[0]


def test_masking():
    assert mask_id_number("110101199001021234") == "11**************34"
    assert mask_id_number("") == ""
    assert mask_phone("13812341234") == "138****1234"
    assert mask_phone("010-12345678") == "010-****5678"
    assert mask_phone("0536-1234567-88") == "0536-***4567"


def test_encrypt_round_trip_nonce_and_field_binding():
    a = crypto.encrypt("110101199001021234", field="f.one")
    b = crypto.encrypt("110101199001021234", field="f.one")
    assert a != b and a.startswith("v1:") and "110101199001021234" not in a
    assert crypto.decrypt(a, field="f.one") == "110101199001021234"
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(a, field="f.two")  # copied to another column: does not verify
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(a[:-2] + ("A" if a[-2] != "A" else "B") + a[-1], field="f.one")
    assert crypto.blind_index("x", field="f") == crypto.blind_index("x", field="f")
    assert crypto.blind_index("x", field="f") != crypto.blind_index("x", field="g")
    assert crypto.blind_index("", field="f") is None


def test_key_rotation_old_versions_still_decrypt():
    import base64

    k1 = base64.urlsafe_b64encode(b"1" * 32).decode()
    k2 = base64.urlsafe_b64encode(b"2" * 32).decode()
    with override_settings(FIELD_ENCRYPTION_KEY=f"v1:{k1}"):
        old = crypto.encrypt("secret", field="f")
        old_hash = crypto.blind_index("secret", field="f")
    with override_settings(FIELD_ENCRYPTION_KEY=f"v2:{k2},v1:{k1}"):
        assert crypto.decrypt(old, field="f") == "secret"
        new = crypto.encrypt("secret", field="f")
        assert crypto.key_version(new) == "v2"
        assert crypto.blind_index("secret", field="f") == old_hash  # the blind index has its own key
    with override_settings(FIELD_ENCRYPTION_KEY=f"v2:{k2}"), pytest.raises(crypto.DecryptionError):
        crypto.decrypt(old, field="f")


@pytest.mark.parametrize(
    "value", ["nonsense", "v1:short", "v1:" + "!" * 44, "v1:" + "A" * 43 + ",v1:" + "A" * 43, "bad version:AAAA"]
)
def test_malformed_key_names_the_variable(value):
    with override_settings(FIELD_ENCRYPTION_KEY=value), pytest.raises(ImproperlyConfigured, match="FIELD_ENCRYPTION_KEY"):
        crypto.check_configuration()
