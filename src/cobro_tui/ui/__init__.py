"""The Textual interface: screens compose widgets, bind keys and call services. No I/O here."""
