"""ISTN coexistence with multistatic ISAC (Jee & Andrews): channels, metrics, WMMSE steps."""
