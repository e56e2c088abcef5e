"""Default and per-channel templates: readable text, escaped HTML, bad templates refused when saved."""

from __future__ import annotations

from dataclasses import replace

import pytest

from nightowl.core.errors import InvalidInput
from nightowl.notify import templates
from nightowl.notify.channels.email import Email
from nightowl.notify.channels.webhook import Webhook
from tests.notify.factories import message


def test_default_text_lists_each_alert_with_labels_and_links() -> None:
    text = templates.render(templates.TEXT, replace(message(), note="escalated to level 2 of critical"))
    assert text.splitlines()[:4] == [
        "[FIRING:1] HighLatency",
        "escalated to level 2 of critical",
        "",
        "- [firing] p99 latency above 2s",
    ]
    assert "  instance: api-1" in text.splitlines()
    assert "  source: http://prometheus.example/graph?g0.expr=up" in text.splitlines()


def test_html_escapes_alert_content() -> None:
    html = templates.render(templates.HTML, message(), html=True)
    assert "<b>slow</b>" not in html and "&lt;b&gt;slow&lt;/b&gt;" in html


def test_template_errors_are_refused_when_the_channel_is_saved() -> None:
    with pytest.raises(InvalidInput) as error:
        Email.validate({"host": "h", "from": "a@x", "to": "b@x", "title_template": "{{ message.title "})
    assert error.value.field == "config.title_template"


def test_templates_are_sandboxed() -> None:
    with pytest.raises(Exception, match="unsafe|not safely|access"):
        templates.render("{{ message.__class__.__init__.__globals__ }}", message())


def test_webhook_field_types_are_checked() -> None:
    with pytest.raises(InvalidInput, match="max_alerts must be an integer"):
        Webhook.validate({"url": "http://x", "max_alerts": "many"})
    with pytest.raises(InvalidInput, match="unknown fields"):
        Webhook.validate({"url": "http://x", "secrte": "s"})
