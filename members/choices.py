"""Codes from ../shared/domain-rules.md §13."""

from django.db import models


class Stage(models.TextChoices):
    APPLICANT = "applicant", "入党申请人"
    ACTIVIST = "activist", "入党积极分子"
    CANDIDATE = "candidate", "发展对象"
    PROBATIONARY = "probationary", "预备党员"
    FULL = "full", "正式党员"


PARTY_MEMBER_STAGES = {Stage.PROBATIONARY, Stage.FULL}


class MembershipStatus(models.TextChoices):
    NORMAL = "normal", "正常"
    SUSPENDED = "suspended", "停止党籍"
    REMOVED = "removed", "除名"
    EXPELLED = "expelled", "开除党籍"
    DECEASED = "deceased", "去世"
    TRANSFERRED_OUT = "transferred_out", "转出"


class Sex(models.TextChoices):
    MALE = "male", "男"
    FEMALE = "female", "女"


class DuesCategory(models.TextChoices):
    EMPLOYED = "employed", "在职"
    ANNUAL_SALARY = "annual_salary", "年薪制"
    SELF_EMPLOYED = "self_employed", "个体经营"
    RETIRED = "retired", "离退休"
    FARMER = "farmer", "农民"
    STUDENT = "student", "学生"
    UNEMPLOYED = "unemployed", "下岗失业"
    RELIEF = "relief", "抚恤/救济/低保"
