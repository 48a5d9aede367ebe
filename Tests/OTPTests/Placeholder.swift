import Testing
@testable import OTP
