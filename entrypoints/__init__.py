"""Entry points: settings, the dependency-injection container, the HTTP app and the CLI."""
