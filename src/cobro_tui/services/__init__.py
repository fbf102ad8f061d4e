"""What the UI and the CLI may call: plain domain values in, plain domain values out."""
