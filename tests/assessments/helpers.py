"""Builders shared by the assessments tests."""

from __future__ import annotations

from datetime import timedelta

from assessments.choices import SchemeStatus
from assessments.models import SchemeIndicator
from assessments.services.schemes import scheme_seed


def small_scheme_data(year: int = 2025, **overrides):
    data = {
        "name": "测试方案",
        "year": year,
        "org_type": "branch",
        "total_points": "25",
        "publicity_days": 5,
        "sections": [
            {
                "code": "S1",
                "name": "基础工作",
                "max_points": "20",
                "indicators": [
                    {"code": "M1", "name": "阵地建设", "max_points": "10"},
                    {
                        "code": "T1",
                        "name": "按期换届",
                        "max_points": "10",
                        "method": "computed",
                        "metric_code": "term_not_overdue",
                        "mapping_type": "boolean",
                    },
                ],
            },
            {
                "code": "S2",
                "name": "加分",
                "max_points": "5",
                "indicators": [{"code": "J1", "name": "创新项目", "max_points": "5", "kind": "bonus"}],
            },
            {
                "code": "S3",
                "name": "扣分与否决",
                "max_points": "0",
                "indicators": [
                    {"code": "D1", "name": "发展党员不规范", "max_points": "5", "kind": "deduction"},
                    {"code": "V1", "name": "严重违纪", "max_points": "0", "kind": "veto", "veto_cap_stars": 0},
                ],
            },
        ],
        "bands": [
            {
                "stars": 5,
                "label": "五星",
                "min_points": "20",
                "max_points": None,
                "required_indicator": "J1",
                "quota_percent": "10",
            },
            {"stars": 4, "label": "四星", "min_points": "15", "max_points": "20"},
            {"stars": 3, "label": "三星", "min_points": "0", "max_points": "15"},
        ],
    }
    data.update(overrides)
    return data


def active_scheme(org, **overrides):
    scheme = scheme_seed(organization=org, data=small_scheme_data(**overrides))
    scheme.status = SchemeStatus.ACTIVE
    scheme.save(update_fields=["status"])
    return scheme


def ids(scheme):
    return {i.code: i.pk for i in SchemeIndicator.objects.filter(section__scheme=scheme)}


def after_publicity(rating):
    return rating.publicity_end + timedelta(days=1)
