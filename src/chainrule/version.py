"""chainrule's version, at the bottom of the layers (the model files record it)."""

VERSION = "0.1.0"
