"""medbro: the message-integration hub for Danish cross-sector healthcare.

``gateway`` is the core (model, codecs, routing, store, retry, SLA, API). It never imports
``adapters``; outside systems plug in through the entry points that ``gateway.plugins`` loads.
"""

__version__ = "0.1.0"
