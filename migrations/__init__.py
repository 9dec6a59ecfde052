"""SQL migrations, shipped inside the fedinet package as fedinet.migrations."""
