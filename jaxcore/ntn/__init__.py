"""Atmospheric sensing for LEO NTN resource allocation (Leyva-Mayorga et al.)."""
