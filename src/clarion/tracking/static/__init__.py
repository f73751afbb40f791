"""Static files served to web pages: the tracking snippet ``clarion.js``."""
