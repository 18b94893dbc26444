"""CRM adapters: where qualified leads go (HubSpot, a signed webhook, or nowhere)."""
