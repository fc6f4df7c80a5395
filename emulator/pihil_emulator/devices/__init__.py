"""Device models, one file per part."""
