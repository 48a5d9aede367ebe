import OTP
print("demo")
