"""Sales pre-qualification: lead capture, scoring, storage and CRM delivery."""
