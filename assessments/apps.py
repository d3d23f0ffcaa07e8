from django.apps import AppConfig


class AssessmentsConfig(AppConfig):
    name = "assessments"
    verbose_name = "考评督查"

    def ready(self) -> None:
        from activities.elections.pdf import register_pdf_font_source
        from assessments.reports.fonts import cjk_font

        # The election printouts (activities, a lower layer) use the one font the project embeds.
        register_pdf_font_source(cjk_font)
