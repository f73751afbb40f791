"""The post-campaign report: facts → findings → recommendations and learnings → HTML/PDF/JSON."""
