"""The expedited deprovisioning lifecycle after a request: cooling-off, final, disputes.

The rule of when is ``verification.cooling``; here is what the database does
with it: finalizing every approved, undisputed request past its cooling-off
``cooling`` (run by the delivery worker), and what a dispute does ``disputes``.
A supervisor's decision on a request is ``db.review.decisions``.
"""
