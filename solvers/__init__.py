"""Algorithms composed from ``jaxcore``: ISTN P1/P2/P3 pipeline, association, baselines,
JMRA + rounding + DMRAB, the frame-loop simulation, the Monte-Carlo runner, instance and
solution files, and the ``satisac`` command line."""
