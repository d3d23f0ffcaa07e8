from django.apps import AppConfig


class ActivitiesConfig(AppConfig):
    name = "activities"
    verbose_name = "组织生活"

    def ready(self) -> None:
        from activities.development_votes import MeetingVoteSource
        from activities.me import meetings_export, study_export
        from members.development.votes import register_development_vote_source
        from members.me import MeSection, register_me_section

        # The member's own page (“我的”) shows their meetings and study records; “下载我的档案” holds them all.
        register_me_section(
            MeSection(
                "meetings", "我参加的组织生活", "activities/me/_meetings.html", order=30, exporter=meetings_export
            )
        )
        register_me_section(
            MeSection("study", "我的学习记录", "activities/me/_study.html", order=40, exporter=study_export)
        )
        # The 发展党员 vote steps link the branch's 支部党员大会 meeting record.
        register_development_vote_source(MeetingVoteSource())
