from django.contrib import admin

from yimatong.wechat.models import KeywordReply, OfficialAccount, PortalArticle


class KeywordReplyInline(admin.TabularInline):
    model = KeywordReply
    extra = 0
    fields = ("trigger", "keyword", "reply", "portal_page", "priority", "is_active")


@admin.register(OfficialAccount)
class OfficialAccountAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "appid", "mode", "language", "is_active")
    fields = (
        "name",
        "slug",
        "appid",
        "secret",
        "token",
        "encoding_aes_key",
        "previous_aes_key",
        "mode",
        "language",
        "welcome_text",
        "default_reply",
        "templates",
        "is_active",
    )
    inlines = [KeywordReplyInline]


@admin.register(PortalArticle)
class PortalArticleAdmin(admin.ModelAdmin):
    list_display = ("title", "kind", "issuer", "position", "is_published")
    list_filter = ("kind", "is_published")
    prepopulated_fields = {"slug": ("title",)}
