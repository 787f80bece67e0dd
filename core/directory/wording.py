"""The words of a verification's outcome and of a region's answer, as the provider reads them."""

from __future__ import annotations

from core.errors import N_

# What the provider reads (Verification.message): English here and on the command line; the
# NPI screen translates the template and fills the same parameters (core.errors.fill).
VERIFIED = N_("Your NPI {npi} is verified (region {region}).")
DEACTIVATED = N_(
    "NPI {npi} was deactivated, so it cannot be used to set up the iPrescribe Authenticator. "
    "Contact your administrator if this is wrong."
)
DEACTIVATED_ON = N_(
    "NPI {npi} was deactivated on {month} {day}, {year}, so it cannot be used to set up the "
    "iPrescribe Authenticator. Contact your administrator if this is wrong."
)
MONTHS = (
    N_("January"),
    N_("February"),
    N_("March"),
    N_("April"),
    N_("May"),
    N_("June"),
    N_("July"),
    N_("August"),
    N_("September"),
    N_("October"),
    N_("November"),
    N_("December"),
)
ORGANIZATION = N_("NPI {npi} belongs to an organization, not to an individual prescriber, so it cannot verify you.")
UNKNOWN_LOCATION = N_(
    "NPI {npi} has a practice location ('{state}') the kiosk's region map does not know, so it "
    "cannot be verified here. Contact your administrator."
)
BLANK = N_("blank")
NAME_MISMATCH = N_(
    "The name registered for NPI {npi} does not match the name on your account. Check that you "
    "scanned your own enrollment image, or contact your administrator."
)
UNREACHABLE = N_(
    "The provider directory for region {regions} could not be reached, so NPI {npi} could not be "
    "checked right now. Try again in a minute; if it persists, contact your administrator."
)
UNREACHABLES = N_(
    "The provider directory for regions {regions} could not be reached, so NPI {npi} could not be "
    "checked right now. Try again in a minute; if it persists, contact your administrator."
)
NOT_FOUND = N_(
    "NPI {npi} was not found in the provider directory. Check the NPI on your enrollment image, "
    "or contact your administrator."
)
LATE = N_("Region {region} did not answer within {seconds} s.")
SLOW = N_("Region {region} did not answer in time.")
UNREACHED = N_("Region {region}'s directory could not be reached.")
