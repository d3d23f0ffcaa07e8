"""The scoring engine and scheme validation: computed, manual, deductions, veto, bands, quotas."""

from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.core.exceptions import ValidationError

from assessments.choices import IndicatorKind, MappingType
from assessments.scoring import points_from_value, quota_allowed, score_total, stars_for
from assessments.seeds import city_five_star_scheme, district_branch_scheme
from assessments.services.schemes import scheme_check, scheme_save

D = Decimal


def ind(
    pk, kind=IndicatorKind.SCORE, max_points="10", mapping_type=MappingType.LINEAR, mapping=(), threshold=None, cap=0
):
    return SimpleNamespace(
        pk=pk,
        name=f"指标{pk}",
        kind=kind,
        max_points=D(max_points),
        mapping_type=mapping_type,
        mapping=list(mapping),
        threshold=threshold,
        veto_cap_stars=cap,
    )


def band(stars, low, required=None):
    return SimpleNamespace(stars=stars, min_points=D(low), required_indicator_id=required)


def test_linear_mapping_scales_and_clamps():
    indicator = ind(1, max_points="10")
    assert points_from_value(indicator, D("0.875")) == D("8.75")
    assert points_from_value(indicator, D("1.5")) == D("10.00")
    assert points_from_value(indicator, D("-1")) == D("0.00")
    assert points_from_value(indicator, None) is None


def test_steps_mapping_takes_highest_reached_step():
    indicator = ind(
        1,
        max_points="6",
        mapping_type=MappingType.STEPS,
        mapping=[{"min": "0.98", "points": "6"}, {"min": "0.9", "points": "4"}, {"min": "0.8", "points": "2"}],
    )
    assert points_from_value(indicator, D("0.99")) == D("6")
    assert points_from_value(indicator, D("0.98")) == D("6")
    assert points_from_value(indicator, D("0.979")) == D("4")
    assert points_from_value(indicator, D("0.8")) == D("2")
    assert points_from_value(indicator, D("0.5")) == D("0")


def test_boolean_deduction_and_veto_trigger_below_threshold():
    assert points_from_value(ind(1, mapping_type=MappingType.BOOLEAN, max_points="5"), D(1)) == D("5")
    assert points_from_value(ind(1, mapping_type=MappingType.BOOLEAN, max_points="5"), D(0)) == D("0")
    deduction = ind(2, kind=IndicatorKind.DEDUCTION, max_points="5")
    assert points_from_value(deduction, D(0)) == D("5")
    assert points_from_value(deduction, D(1)) == D("0")
    veto = ind(3, kind=IndicatorKind.VETO, max_points="0", threshold=D("0.5"))
    assert points_from_value(veto, D("0.4")) == D(1)
    assert points_from_value(veto, D("0.5")) == D(0)


def test_total_adds_scores_and_bonus_subtracts_deductions_and_floors_at_zero():
    a, b, bonus, ded = (
        ind(1),
        ind(2),
        ind(3, kind=IndicatorKind.BONUS, max_points="5"),
        ind(4, kind=IndicatorKind.DEDUCTION, max_points="15"),
    )
    result = score_total([(a, D("8.5")), (b, D("10")), (bonus, D("5")), (ded, D("5"))], total_points=D("25"))
    assert result.total == D("18.50")
    assert (result.score_points, result.bonus_points, result.deduction_points) == (D("18.50"), D("5.00"), D("5.00"))
    floored = score_total([(a, D("2")), (ded, D("15"))], total_points=D("25"))
    assert floored.total == D("0.00")
    capped = score_total([(a, D("10")), (b, D("10")), (bonus, D("5"))], total_points=D("20"))
    assert capped.total == D("20.00")


def test_missing_manual_scores_are_reported():
    result = score_total([(ind(1), None), (ind(2, kind=IndicatorKind.DEDUCTION), None)], total_points=D(20))
    assert result.missing == ["指标1"]


def test_bands_required_item_and_veto_cap():
    bands = [band(5, 90, required=9), band(4, 80), band(3, 70), band(2, 60), band(1, 0)]
    innovation = ind(9, kind=IndicatorKind.BONUS, max_points="5")
    base = ind(1, max_points="100")
    with_innovation = score_total([(base, D("88")), (innovation, D("3"))], total_points=D(110))
    assert stars_for(bands, with_innovation) == 5
    without = score_total([(base, D("95")), (innovation, D("0"))], total_points=D(110))
    assert without.total == D("95.00") and stars_for(bands, without) == 4  # falls to the band below
    assert stars_for(bands, score_total([(base, D("80"))], total_points=D(110))) == 4
    assert stars_for(bands, score_total([(base, D("79.99"))], total_points=D(110))) == 3
    assert stars_for(bands, score_total([(base, D("12"))], total_points=D(110))) == 1
    veto = ind(7, kind=IndicatorKind.VETO, max_points="0", cap=2)
    vetoed = score_total([(base, D("95")), (innovation, D("5")), (veto, D(1))], total_points=D(110))
    assert vetoed.veto_cap == 2 and stars_for(bands, vetoed) == 2
    hard_veto = ind(8, kind=IndicatorKind.VETO, max_points="0", cap=0)
    assert stars_for(bands, score_total([(base, D("99")), (hard_veto, D(1))], total_points=D(110))) == 0


def test_quota_rounds_up():
    assert quota_allowed(20, D(10)) == 2
    assert quota_allowed(3, D(10)) == 1
    assert quota_allowed(21, D(10)) == 3
    assert quota_allowed(10, D(40)) == 4


def test_seeded_examples_are_valid():
    assert scheme_check(city_five_star_scheme(2026)) == {}
    assert scheme_check(district_branch_scheme(2026)) == {}
    city = city_five_star_scheme(2026)
    total = sum(D(s["max_points"]) for s in city["sections"])
    assert total == D(110) and len([s for s in city["sections"] if D(s["max_points"]) > 0]) == 8


def _messages(data):
    return [m for msgs in scheme_check(data).values() for m in msgs]


def test_band_gap_and_overlap_are_refused_in_chinese():
    data = district_branch_scheme(2026)
    data["bands"][1]["min_points"] = "85"  # 四星 85–90, 三星 60–80 → gap 80–85
    assert any("80–85 分之间有空档" in m for m in _messages(data))
    data = district_branch_scheme(2026)
    data["bands"][2]["max_points"] = "82"  # 三星 60–82 overlaps 四星 80–90
    assert any("重叠" in m for m in _messages(data))
    data = district_branch_scheme(2026)
    data["bands"][3]["min_points"] = "10"
    assert any("未覆盖 0–10 分" in m for m in _messages(data))


def test_indicator_points_above_maximum_and_section_totals_are_refused():
    data = city_five_star_scheme(2026)
    data["sections"][4]["indicators"][0]["mapping"][0]["points"] = "8"  # B1 max 6
    assert any("档次分值 8 分超过该指标分值 6 分" in m for m in _messages(data))
    data = city_five_star_scheme(2026)
    data["sections"][0]["indicators"][1]["max_points"] = "7"  # 领导班子 5+7+5 = 17 ≠ 15
    messages = _messages(data)
    assert any("板块「领导班子」各计分指标分值合计 17 分，与板块分值 15 分不一致" in m for m in messages)
    data = city_five_star_scheme(2026)
    data["total_points"] = "100"
    assert any("各板块分值合计 110 分，与方案满分 100 分不一致" in m for m in _messages(data))
    data = city_five_star_scheme(2026)
    data["sections"][0]["indicators"][0]["metric_code"] = "no_such_metric"
    assert any("未知的系统指标" in m for m in _messages(data))


@pytest.mark.django_db
def test_scheme_save_refuses_and_writes_nothing(cast):
    from assessments.models import AssessmentScheme

    data = district_branch_scheme(2026)
    data["bands"][1]["min_points"] = "85"
    with pytest.raises(ValidationError) as exc:
        scheme_save(organization=cast.P, data=data, user=cast.users["org_admin_p"])
    assert "bands" in exc.value.message_dict
    assert not AssessmentScheme.objects.exists()
    scheme = scheme_save(organization=cast.P, data=district_branch_scheme(2026), user=cast.users["org_admin_p"])
    assert scheme.sections.count() == 3 and scheme.bands.count() == 4


def test_duplicate_codes_are_refused():
    data = city_five_star_scheme(2026)
    data["sections"][1]["code"] = data["sections"][0]["code"]
    assert any("板块编号 leadership 重复" in m for m in _messages(data))
    data = city_five_star_scheme(2026)
    data["sections"][1]["indicators"][0]["code"] = "L1"
    assert any("指标编号 L1 重复" in m for m in _messages(data))
