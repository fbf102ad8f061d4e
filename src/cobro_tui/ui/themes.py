"""Themes of our own: a high-contrast one for low vision, glare and old monitors."""

from __future__ import annotations

from textual.theme import Theme

HIGH_CONTRAST = Theme(
    name="cobro-high-contrast",
    primary="#FFFF00",
    secondary="#00FFFF",
    accent="#FFFFFF",
    foreground="#FFFFFF",
    background="#000000",
    surface="#000000",
    panel="#1A1A1A",
    success="#00FF00",
    warning="#FFFF00",
    error="#FF4040",
    dark=True,
    variables={
        "text-muted": "#FFFFFF",
        "footer-key-foreground": "#FFFF00",
        "block-cursor-background": "#FFFF00",
        "block-cursor-foreground": "#000000",
        "input-selection-background": "#FFFF00 50%",
    },
)

THEMES = (HIGH_CONTRAST,)
