from django.contrib import admin

from members.models import Member


@admin.register(Member)
class MemberAdmin(admin.ModelAdmin):
    list_display = ("name", "organization", "stage", "membership_status")
    raw_id_fields = ("organization", "user")
    list_filter = ("stage", "membership_status")
