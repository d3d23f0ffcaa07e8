"""Shared helpers of the 考评督查 pages: form errors from a service's ``ValidationError``,
flash messages, paging, and the 400 answer to bad query parameters."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest

PAGE_SIZE = 50


def errors_to_form(form: Any, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def flash_errors(request: HttpRequest, exc: ValidationError) -> None:
    for message in exc.messages:
        messages.error(request, message)


def paginate(request: HttpRequest, qs: Any, number: int | None) -> Any:
    return Paginator(qs, PAGE_SIZE).get_page(number or 1)


def bad_query(form: Any) -> HttpResponse:
    return HttpResponseBadRequest("查询参数无效：" + "；".join(f"{k}" for k in form.errors))
