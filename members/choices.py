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


# --- Member record (党员基本信息采集表, domain-rules §7) ----------------------------------------


class Ethnicity(models.TextChoices):
    """民族, GB/T 3304 codes."""

    HAN = "01", "汉族"
    MONGOL = "02", "蒙古族"
    HUI = "03", "回族"
    ZANG = "04", "藏族"
    UYGUR = "05", "维吾尔族"
    MIAO = "06", "苗族"
    YI = "07", "彝族"
    ZHUANG = "08", "壮族"
    BUYEI = "09", "布依族"
    CHOSEN = "10", "朝鲜族"
    MAN = "11", "满族"
    DONG = "12", "侗族"
    YAO = "13", "瑶族"
    BAI = "14", "白族"
    TUJIA = "15", "土家族"
    HANI = "16", "哈尼族"
    KAZAK = "17", "哈萨克族"
    DAI = "18", "傣族"
    LI = "19", "黎族"
    LISU = "20", "傈僳族"
    VA = "21", "佤族"
    SHE = "22", "畲族"
    GAOSHAN = "23", "高山族"
    LAHU = "24", "拉祜族"
    SUI = "25", "水族"
    DONGXIANG = "26", "东乡族"
    NAXI = "27", "纳西族"
    JINGPO = "28", "景颇族"
    KIRGIZ = "29", "柯尔克孜族"
    TU = "30", "土族"
    DAUR = "31", "达斡尔族"
    MULAO = "32", "仫佬族"
    QIANG = "33", "羌族"
    BLANG = "34", "布朗族"
    SALAR = "35", "撒拉族"
    MAONAN = "36", "毛南族"
    GELAO = "37", "仡佬族"
    XIBE = "38", "锡伯族"
    ACHANG = "39", "阿昌族"
    PUMI = "40", "普米族"
    TAJIK = "41", "塔吉克族"
    NU = "42", "怒族"
    UZBEK = "43", "乌孜别克族"
    RUSS = "44", "俄罗斯族"
    EWENKI = "45", "鄂温克族"
    DEANG = "46", "德昂族"
    BONAN = "47", "保安族"
    YUGUR = "48", "裕固族"
    GIN = "49", "京族"
    TATAR = "50", "塔塔尔族"
    DERUNG = "51", "独龙族"
    OROQEN = "52", "鄂伦春族"
    HEZHEN = "53", "赫哲族"
    MONBA = "54", "门巴族"
    LHOBA = "55", "珞巴族"
    JINO = "56", "基诺族"
    OTHER = "97", "其他"
    FOREIGN_ORIGIN = "98", "外国血统中国籍人士"


class Education(models.TextChoices):
    """学历 (the levels used in 党内统计)."""

    DOCTORATE = "doctorate", "博士研究生"
    MASTER = "master", "硕士研究生"
    BACHELOR = "bachelor", "大学本科"
    ASSOCIATE = "associate", "大学专科"
    SECONDARY_VOCATIONAL = "secondary_vocational", "中等专科"
    HIGH_SCHOOL = "high_school", "高中"
    JUNIOR_HIGH = "junior_high", "初中"
    PRIMARY_OR_BELOW = "primary_or_below", "小学及以下"


class Degree(models.TextChoices):
    """学位."""

    DOCTOR = "doctor", "博士"
    MASTER = "master", "硕士"
    BACHELOR = "bachelor", "学士"
    NONE = "none", "无"


class JobPost(models.TextChoices):
    """工作岗位, top level of the 党内统计 table (§7; check against the official 4-digit codes)."""

    PARTY_GOVERNMENT = "party_government", "党政机关工作人员"
    INSTITUTION_MANAGEMENT = "institution_management", "事业单位管理人员"
    INSTITUTION_PROFESSIONAL = "institution_professional", "事业单位专业技术人员"
    INSTITUTION_WORKER = "institution_worker", "事业单位工勤技能人员"
    PUBLIC_ENTERPRISE_MANAGEMENT = "public_enterprise_management", "公有经济控制企业管理人员"
    PUBLIC_ENTERPRISE_PROFESSIONAL = "public_enterprise_professional", "公有经济控制企业专业技术人员"
    PUBLIC_ENTERPRISE_WORKER = "public_enterprise_worker", "公有经济控制企业工勤技能人员"
    PRIVATE_ENTERPRISE_MANAGEMENT = "private_enterprise_management", "非公有制经济控制企业管理人员"
    PRIVATE_ENTERPRISE_PROFESSIONAL = "private_enterprise_professional", "非公有制经济控制企业专业技术人员"
    PRIVATE_ENTERPRISE_WORKER = "private_enterprise_worker", "非公有制经济控制企业工勤技能人员"
    SOCIAL_ORGANIZATION = "social_organization", "社会组织人员"
    FARMER = "farmer", "农牧渔民"
    STUDENT = "student", "学生"
    MILITARY = "military", "解放军、武警部队人员"
    RETIRED = "retired", "离退休人员"
    OTHER = "other", "其他职业人员"
    NO_FIXED_JOB = "no_fixed_job", "无固定职业"


class TransferKind(models.TextChoices):
    """组织关系转接 (JY §25)."""

    INTERNAL = "internal", "系统内转接"
    OUTGOING = "outgoing", "转出至系统外"
    INCOMING = "incoming", "从系统外转入"


class TransferStatus(models.TextChoices):
    PENDING = "pending", "待接收"
    ACCEPTED = "accepted", "已接收"
    REJECTED = "rejected", "已退回"
    CANCELLED = "cancelled", "已撤销"
    COMPLETED = "completed", "已办结"


class ImportStatus(models.TextChoices):
    CHECKING = "checking", "检查中"
    PREVIEWED = "previewed", "待确认"
    COMMITTING = "committing", "导入中"
    COMMITTED = "committed", "已导入"
    ROLLED_BACK = "rolled_back", "已撤销"
    DISCARDED = "discarded", "已放弃"
