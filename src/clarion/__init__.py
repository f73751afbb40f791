"""Clarion: self-hosted campaign management, from plan to report."""

__version__ = "0.1.0"
