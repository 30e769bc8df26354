"""The JSON API for city platforms (12345) and firms' systems: API clients per district."""
