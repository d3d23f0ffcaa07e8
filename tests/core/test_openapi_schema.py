"""#13.17 / #18.8: the OpenAPI schema is valid for a standard validator (openapi-spec-validator) and
committed as docs/openapi.yaml; the test fails when the code's schema differs from the file.
Static files are served compressed (brotli and gzip) by WhiteNoise."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.core.management import call_command
from openapi_spec_validator import OpenAPIV30SpecValidator

COMMITTED = Path(settings.BASE_DIR) / "docs" / "openapi.yaml"
REGENERATE = "python manage.py spectacular --settings=config.settings.test --file docs/openapi.yaml  (or: make openapi)"


@pytest.fixture(scope="module")
def generated() -> str:
    out = io.StringIO()
    call_command("spectacular", stdout=out)
    return out.getvalue()


def _errors(text: str) -> list[str]:
    return [str(e).splitlines()[0] for e in OpenAPIV30SpecValidator(yaml.safe_load(text)).iter_errors()]


def test_generated_schema_is_valid(generated):
    assert _errors(generated) == []


def test_committed_schema_is_valid():
    assert _errors(COMMITTED.read_text(encoding="utf-8")) == []


def test_committed_schema_is_the_code_schema(generated):
    committed = COMMITTED.read_text(encoding="utf-8")
    assert generated == committed, f"docs/openapi.yaml is out of date; regenerate it with: {REGENERATE}"


def test_no_enum_lists_a_value_twice(generated):
    def walk(node):
        if isinstance(node, dict):
            if isinstance(node.get("enum"), list):
                values = [v for v in node["enum"] if v is not None]
                assert len(values) == len(set(map(str, values))), node["enum"]
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(yaml.safe_load(generated))


def test_terms_declares_the_path_parameter_it_has(generated):
    operation = yaml.safe_load(generated)["paths"]["/api/v1/organizations/{id}/terms/"]["get"]
    path_params = [p["name"] for p in operation["parameters"] if p["in"] == "path"]
    assert path_params == ["id"]
    assert not [p for p in operation["parameters"] if p["in"] == "query" and p["name"] not in ("page", "page_size")]


def test_schema_does_not_depend_on_the_database_backend(generated):
    schema = yaml.safe_load(generated)
    text = yaml.safe_dump(schema)
    assert "9223372036854775807" not in text and "2147483647" not in text


def test_static_files_are_compressed_with_brotli_and_gzip(tmp_path):
    from whitenoise.compress import Compressor

    css = tmp_path / "app.css"
    css.write_text("body { color: #333; }\n" * 200, encoding="utf-8")
    compressor = Compressor(quiet=True)
    assert compressor.use_brotli, "brotli is not installed: WhiteNoise would serve gzip only"
    written = {Path(name).suffix for name in compressor.compress(str(css))}
    assert written == {".br", ".gz"}


def test_production_serves_static_files_compressed():
    source = (Path(settings.BASE_DIR) / "config" / "settings" / "production.py").read_text(encoding="utf-8")
    assert "whitenoise.storage.CompressedManifestStaticFilesStorage" in source
