"""One template draws every page form's fields (core.forms.FormRenderer, templates/forms/)."""

from __future__ import annotations

from django import forms
from django.forms.renderers import get_default_renderer
from django.test import SimpleTestCase

from core.forms import FormRenderer


class SampleForm(forms.Form):
    name = forms.CharField(label="姓名", help_text="与身份证一致")
    note = forms.CharField(label="备注", required=False)
    active = forms.BooleanField(label="启用", required=False)
    kind = forms.ChoiceField(label="类型", choices=[("in", "转入"), ("out", "转出")], widget=forms.RadioSelect)
    token = forms.CharField(widget=forms.HiddenInput, required=False)

    def clean(self):
        raise forms.ValidationError("两次输入不一致")


class FormRendererTests(SimpleTestCase):
    def test_it_is_the_projects_renderer(self):
        assert isinstance(get_default_renderer(), FormRenderer)

    def test_a_text_field_label_above_required_mark_help_and_each_error(self):
        form = SampleForm({"name": ""})
        form.is_valid()
        html = form["name"].as_field_group()
        self.assertInHTML(
            '<div class="field has-error">'
            '<label for="id_name">姓名 <span class="req" aria-hidden="true">*</span></label>'
            '<input type="text" name="name" id="id_name" required aria-invalid="true"'
            ' aria-describedby="id_name_helptext id_name_error">'
            '<small class="muted" id="id_name_helptext">与身份证一致</small>'
            '<div id="id_name_error"><p class="error">该字段是必填项。</p></div>'
            "</div>",
            html,
        )
        self.assertInHTML(
            '<div class="field"><label for="id_note">备注</label><input type="text" name="note" id="id_note"></div>',
            form["note"].as_field_group(),
        )

    def test_a_checkbox_sits_inside_its_label(self):
        html = SampleForm()["active"].as_field_group()
        self.assertInHTML(
            '<div class="field"><label class="check">'
            '<input type="checkbox" name="active" id="id_active"> 启用</label></div>',
            html,
        )

    def test_a_choice_group_is_a_fieldset_with_one_check_label_per_choice(self):
        html = SampleForm()["kind"].as_field_group()
        self.assertInHTML(
            '<fieldset class="field"><legend>类型 <span class="req" aria-hidden="true">*</span></legend><div>'
            '<label class="check"><input type="radio" name="kind" value="in" id="id_kind_0" required> 转入</label>'
            '<label class="check"><input type="radio" name="kind" value="out" id="id_kind_1" required> 转出</label>'
            "</div></fieldset>",
            html,
        )

    def test_the_whole_form_errors_banner_then_fields_then_hidden(self):
        form = SampleForm({"name": "张三", "kind": "in"})
        form.is_valid()
        html = str(form)
        self.assertInHTML('<div class="msg msg-error" role="alert">两次输入不一致</div>', html)
        self.assertInHTML('<input type="hidden" name="token" id="id_token">', html)
        assert html.index("msg-error") < html.index('name="name"') < html.index('name="token"')
        assert "<label" not in html.split('name="kind"')[-1]  # the hidden field has no label or box
