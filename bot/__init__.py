"""Cloud advisor: the domain logic and tooling behind the Rasa assistant."""
