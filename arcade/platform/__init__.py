"""The platform: settings, plugin loading, and the arcade assembled from them."""
