"""Pure-JAX building blocks of satisac.

Geometry, channels, metrics, WMMSE steps, projections, orbits, rain and estimators for
the ISTN paper (``jaxcore.istn``) and the NTN paper (``jaxcore.ntn``).  Nothing in this
package does I/O, prints, or imports ``solvers``/``reference``/cvxpy.
"""
