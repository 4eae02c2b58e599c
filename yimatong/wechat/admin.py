from django.contrib import admin

from yimatong.wechat import callback_accounts
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

    def save_related(self, request, form, formsets, change) -> None:
        super().save_related(request, form, formsets, change)
        # The account and its replies are saved: this process's callback reads them afresh (other
        # processes within WECHAT_ACCOUNT_CACHE_SECONDS).
        callback_accounts.forget(form.initial.get("slug"))
        callback_accounts.forget(form.instance.slug)


@admin.register(PortalArticle)
class PortalArticleAdmin(admin.ModelAdmin):
    list_display = ("title", "kind", "issuer", "position", "is_published")
    list_filter = ("kind", "is_published")
    prepopulated_fields = {"slug": ("title",)}
