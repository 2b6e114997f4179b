"""What the payment page says, in English and Thai; and which words fit which failure.

Messages may hold `{placeholders}`; templates escape the result, so merchant text filled in here
stays text.
"""

from __future__ import annotations

from dataclasses import dataclass

from paylinks.errors import ApiError, InvalidCard, TestModeLiveCard

LOCALES = ("en", "th")
DEFAULT_LOCALE = "en"

EN = {
    "other_locale": "th",
    "other_language": "ภาษาไทย",
    "secure_payment": "Secure payment",
    "test_mode": "Test mode: no real money moves.",
    "pay_to": "Payment to {merchant}",
    "amount": "Amount",
    "card_heading": "Pay by card",
    "method_heading": "How would you like to pay?",
    "method_promptpay": "PromptPay",
    "method_card": "Card",
    "promptpay_intro": "Scan a QR code with any Thai banking app. No card needed.",
    "field_name": "Name on card",
    "field_number": "Card number",
    "field_expiry": "Expiry (MM/YY)",
    "field_security_code": "Security code",
    "field_security_code_hint": "3 or 4 digits on the card",
    "field_email": "E-mail for the receipt (optional)",
    "pay_button": "Pay {amount}",
    "pay_button_custom": "Pay",
    "support": "Questions? Write to",
    "field_amount": "Amount ({code})",
    "field_amount_hint": "From {low} to {high}",
    "processing": "Processing…",
    "card_safety": "Your card number and security code are never stored.",
    "cards_accepted": "Cards accepted",
    "promptpay_button": "Pay with PromptPay QR",
    "promptpay_heading": "Scan to pay with PromptPay",
    "promptpay_scan": "Open your banking app, scan this QR code and confirm {amount}.",
    "promptpay_qr_alt": "PromptPay QR code for {amount}",
    "promptpay_after": "{merchant} is told as soon as your bank confirms the payment.",
    "promptpay_check": "I have paid",
    "promptpay_cancel": "Pay another way",
    "promptpay_payee": "Pay {amount} to {merchant}",
    "promptpay_save": "Save QR image",
    "promptpay_save_hint": "Paying from this phone? Save the image, then open it in your banking "
    "app.",
    "promptpay_status": "Check payment status",
    "promptpay_by_card": "Pay by card instead",
    "promptpay_until": "This QR code can be paid until {time} on {date} (Thailand time).",
    "promptpay_expired": "The QR code expired before it was paid. Nothing was charged. You can "
    "try again.",
    "promptpay_test_heading": "Test mode: choose how this payment ends",
    "mark_as_paid": "Mark as paid",
    "mark_as_failed": "Mark as failed",
    "promptpay_failed": "The PromptPay payment was not completed. You can try again.",
    "receipt_heading": "Payment successful",
    "receipt_thanks": "Thank you. {merchant} has received your payment.",
    "receipt_reference": "Payment reference",
    "receipt_paid_at": "Paid on",
    "receipt_paid_at_value": "{date} {time} (Thailand time)",
    "receipt_method": "Paid with",
    "receipt_card": "{brand} ending in {last_digits}",
    "receipt_keep": "Keep this reference in case you need to contact {merchant}.",
    "receipt_mail_subject": "Your receipt from {merchant}: {amount}",
    "receipt_mail_sent": "A receipt is on its way to {email}.",
    "errors_summary": "Please check the highlighted fields.",
    "declined_try_promptpay": "You can also pay with a PromptPay QR code below.",
    "err_name_required": "Enter the name on the card.",
    "err_number_required": "Enter the card number.",
    "err_number_invalid": "This card number is not valid. Check the digits.",
    "err_number_brand": "This type of card is not accepted.",
    "err_number_test_mode": "This is a test page: real cards are not accepted. Use a test card.",
    "err_expiry_required": "Enter the expiry date as MM/YY.",
    "err_expiry_invalid": "Enter a valid expiry date as MM/YY.",
    "err_expiry_past": "This card has expired.",
    "err_security_code": "Enter the 3-digit security code (4 digits for American Express).",
    "err_email_invalid": "Enter a valid e-mail address, or leave it empty.",
    "err_amount_invalid": "Enter the amount as a number, such as 500 or 1,250.50.",
    "err_amount_range": "Enter an amount from {low} to {high}.",
    "err_card": "Check the card details and try again.",
    "decline_insufficient_fund": (
        "Your card was declined: insufficient funds or the credit limit has been reached. "
        "Try another card."
    ),
    "decline_failed_processing": (
        "The payment could not be processed. Try again or use another card."
    ),
    "decline_payment_rejected": "The card issuer rejected the payment. Try another card.",
    "decline_invalid_account_number": "The card's account is not valid. Try another card.",
    "decline_generic": "Your card was declined. Contact your bank or try another card.",
    "in_progress_title": "Payment in progress",
    "in_progress_body": "Someone is paying this link right now. If that payment does not go "
    "through, you can pay in a moment.",
    "used_title": "Already paid",
    "contact_merchant": "Write to {merchant}",
    "used_body": "This payment link has already been paid. There is nothing more to pay.",
    "deleted_title": "No longer available",
    "deleted_body": (
        "{merchant} has withdrawn this payment link. Contact them if you still need to pay."
    ),
    "expired_title": "This link has expired",
    "expired_body": "This payment link has expired. Ask {merchant} for a new one.",
    "limit_reached_title": "No longer taking payments",
    "limit_reached_body": "This payment link has taken all the payments {merchant} allowed.",
    "live_title": "Payments are not available yet",
    "live_body": "{merchant} has not set up payments here yet, so nothing can be paid. "
    "Contact {merchant} for another way to pay.",
    "live_needs_js": "Paying by card needs JavaScript, which is turned off in this browser: "
    "your card details are sent straight to our card processor, never to this page's server.",
    "live_promptpay_without_js": "PromptPay QR works without it.",
    "err_card_token": "Your card could not be checked. Check the details and try again.",
    "not_found_title": "Payment link not found",
    "not_found_body": "Check that the address is complete, or ask the merchant for a new link.",
    "forbidden_title": "This form could not be accepted",
    "forbidden_body": "For your safety this form is only accepted from its own page. "
    "Nothing was charged. Open the payment page again and retry.",
    "stale_body": "The payment form was open for too long and has expired. Nothing was charged. "
    "Open the payment page again and retry.",
    "rate_title": "Too many attempts",
    "rate_body": "There were too many payment attempts in a short time, so this one was not "
    "tried and nothing was charged. Wait {seconds} seconds, then try again.",
    "processing_title": "Payment in progress",
    "processing_body": "Your payment is still being processed. Reload this page in a "
    "moment to see the result; do not pay again.",
    "error_title": "Something went wrong",
    "error_body": "We could not finish your request. If you were paying, check with the merchant "
    "before you try again.",
    "bad_request_title": "This address is not valid",
    "bad_request_body": "The address holds characters that no payment page has. Check that it "
    "was copied completely, or ask the merchant for the link again.",
    "back": "Back to the payment page",
    "to_bank_title": "Confirm the payment with your bank",
    "to_bank_body": "Your bank asks you to confirm this payment. You are being taken to its page; "
    "you will come back here afterwards.",
    "to_bank": "Continue to your bank",
    "tds_title": "Confirm it is you",
    "tds_body": "Test mode: here your bank would ask you to confirm the payment of {amount} to "
    "{merchant} (3-D Secure). Choose how the authentication ends.",
    "tds_authenticate": "Authenticate",
    "tds_fail": "Fail",
    "tds_done_title": "Authentication finished",
    "tds_done_body": "This payment no longer waits for authentication.",
    "decline_failed_3ds": "Your bank could not confirm this payment (3-D Secure). Nothing was "
    "charged. Try again or use another card.",
    "tds_expired": "The time to confirm this payment with your bank ran out. Nothing was "
    "charged. Try again.",
}  # fmt: skip

TH = {
    "other_locale": "en",
    "other_language": "English",
    "secure_payment": "ชำระเงินอย่างปลอดภัย",
    "test_mode": "โหมดทดสอบ: ไม่มีการเรียกเก็บเงินจริง",
    "pay_to": "ชำระเงินให้ {merchant}",
    "amount": "ยอดชำระ",
    "card_heading": "ชำระด้วยบัตร",
    "method_heading": "เลือกวิธีชำระเงิน",
    "method_promptpay": "พร้อมเพย์",
    "method_card": "บัตร",
    "promptpay_intro": "สแกน QR โค้ดด้วยแอปธนาคารใดก็ได้ ไม่ต้องใช้บัตร",
    "field_name": "ชื่อบนบัตร",
    "field_number": "หมายเลขบัตร",
    "field_expiry": "วันหมดอายุ (ดด/ปป)",
    "field_security_code": "รหัสความปลอดภัย",
    "field_security_code_hint": "3 หรือ 4 หลักบนบัตร",
    "field_email": "อีเมลสำหรับรับใบเสร็จ (ไม่บังคับ)",
    "pay_button": "ชำระ {amount}",
    "pay_button_custom": "ชำระเงิน",
    "support": "มีคำถาม? ติดต่อ",
    "field_amount": "จำนวนเงิน ({code})",
    "field_amount_hint": "ตั้งแต่ {low} ถึง {high}",
    "processing": "กำลังดำเนินการ…",
    "card_safety": "ระบบไม่จัดเก็บหมายเลขบัตรและรหัสความปลอดภัยของคุณ",
    "cards_accepted": "บัตรที่รับชำระ",
    "promptpay_button": "ชำระด้วย QR พร้อมเพย์",
    "promptpay_heading": "สแกนเพื่อชำระด้วยพร้อมเพย์",
    "promptpay_scan": "เปิดแอปธนาคาร สแกน QR โค้ดนี้ แล้วยืนยันยอด {amount}",
    "promptpay_qr_alt": "QR โค้ดพร้อมเพย์ ยอด {amount}",
    "promptpay_after": "{merchant} จะได้รับแจ้งทันทีที่ธนาคารยืนยันการชำระเงิน",
    "promptpay_check": "ฉันชำระเงินแล้ว",
    "promptpay_cancel": "ชำระด้วยวิธีอื่น",
    "promptpay_payee": "ชำระ {amount} ให้ {merchant}",
    "promptpay_save": "บันทึกรูป QR",
    "promptpay_save_hint": "ชำระจากโทรศัพท์เครื่องนี้? บันทึกรูปแล้วเปิดในแอปธนาคารของคุณ",
    "promptpay_status": "ตรวจสอบสถานะการชำระเงิน",
    "promptpay_by_card": "ชำระด้วยบัตรแทน",
    "promptpay_until": "QR โค้ดนี้ชำระได้ถึงเวลา {time} น. วันที่ {date} (เวลาประเทศไทย)",
    "promptpay_expired": "QR โค้ดหมดอายุก่อนชำระเงิน ไม่มีการเรียกเก็บเงิน คุณสามารถลองอีกครั้งได้",
    "promptpay_test_heading": "โหมดทดสอบ: เลือกผลของการชำระเงินนี้",
    "mark_as_paid": "ทำเครื่องหมายว่าชำระแล้ว",
    "mark_as_failed": "ทำเครื่องหมายว่าไม่สำเร็จ",
    "promptpay_failed": "การชำระด้วยพร้อมเพย์ไม่สำเร็จ คุณสามารถลองอีกครั้งได้",
    "receipt_heading": "ชำระเงินสำเร็จ",
    "receipt_thanks": "ขอบคุณ {merchant} ได้รับการชำระเงินของคุณแล้ว",
    "receipt_reference": "หมายเลขอ้างอิง",
    "receipt_paid_at": "ชำระเมื่อ",
    "receipt_paid_at_value": "{date} เวลา {time} น. (เวลาประเทศไทย)",
    "receipt_method": "ชำระด้วย",
    "receipt_card": "{brand} ลงท้ายด้วย {last_digits}",
    "receipt_keep": "โปรดเก็บหมายเลขอ้างอิงนี้ไว้ หากต้องการติดต่อ {merchant}",
    "receipt_mail_subject": "ใบเสร็จจาก {merchant}: {amount}",
    "receipt_mail_sent": "ใบเสร็จจะถูกส่งไปที่ {email}",
    "errors_summary": "โปรดตรวจสอบช่องที่มีข้อผิดพลาด",
    "declined_try_promptpay": "คุณสามารถชำระด้วย QR พร้อมเพย์ด้านล่างได้เช่นกัน",
    "err_name_required": "กรุณากรอกชื่อบนบัตร",
    "err_number_required": "กรุณากรอกหมายเลขบัตร",
    "err_number_invalid": "หมายเลขบัตรไม่ถูกต้อง โปรดตรวจสอบอีกครั้ง",
    "err_number_brand": "ไม่รองรับบัตรประเภทนี้",
    "err_number_test_mode": "หน้านี้อยู่ในโหมดทดสอบ ไม่รับบัตรจริง โปรดใช้บัตรทดสอบ",
    "err_expiry_required": "กรุณากรอกวันหมดอายุในรูปแบบ ดด/ปป",
    "err_expiry_invalid": "วันหมดอายุไม่ถูกต้อง กรุณากรอกในรูปแบบ ดด/ปป",
    "err_expiry_past": "บัตรนี้หมดอายุแล้ว",
    "err_security_code": "กรุณากรอกรหัสความปลอดภัย 3 หลัก (American Express 4 หลัก)",
    "err_email_invalid": "อีเมลไม่ถูกต้อง กรุณาแก้ไขหรือเว้นว่างไว้",
    "err_amount_invalid": "กรุณากรอกจำนวนเงินเป็นตัวเลข เช่น 500 หรือ 1,250.50",
    "err_amount_range": "กรุณากรอกจำนวนเงินตั้งแต่ {low} ถึง {high}",
    "err_card": "โปรดตรวจสอบข้อมูลบัตรแล้วลองอีกครั้ง",
    "decline_insufficient_fund": (
        "บัตรของคุณถูกปฏิเสธ เนื่องจากยอดเงินไม่เพียงพอหรือเกินวงเงิน โปรดลองใช้บัตรอื่น"
    ),
    "decline_failed_processing": "ไม่สามารถดำเนินการชำระเงินได้ โปรดลองอีกครั้งหรือใช้บัตรอื่น",
    "decline_payment_rejected": "ผู้ออกบัตรปฏิเสธการชำระเงิน โปรดลองใช้บัตรอื่น",
    "decline_invalid_account_number": "บัญชีของบัตรนี้ไม่ถูกต้อง โปรดลองใช้บัตรอื่น",
    "decline_generic": "บัตรของคุณถูกปฏิเสธ โปรดติดต่อธนาคารหรือลองใช้บัตรอื่น",
    "in_progress_title": "กำลังมีการชำระเงิน",
    "in_progress_body": "มีผู้กำลังชำระเงินผ่านลิงก์นี้อยู่ หากการชำระเงินนั้นไม่สำเร็จ คุณจะสามารถชำระได้ในอีกสักครู่",
    "used_title": "ชำระเงินแล้ว",
    "contact_merchant": "ส่งอีเมลถึง {merchant}",
    "used_body": "ลิงก์ชำระเงินนี้ได้รับการชำระแล้ว ไม่มียอดที่ต้องชำระเพิ่ม",
    "deleted_title": "ลิงก์นี้ไม่สามารถใช้งานได้แล้ว",
    "deleted_body": "{merchant} ได้ยกเลิกลิงก์ชำระเงินนี้แล้ว หากยังต้องชำระเงิน โปรดติดต่อผู้ขาย",
    "expired_title": "ลิงก์นี้หมดอายุแล้ว",
    "expired_body": "ลิงก์ชำระเงินนี้หมดอายุแล้ว โปรดขอลิงก์ใหม่จาก {merchant}",
    "limit_reached_title": "ไม่รับชำระเงินเพิ่มแล้ว",
    "limit_reached_body": "ลิงก์ชำระเงินนี้รับชำระครบตามจำนวนที่ {merchant} กำหนดแล้ว",
    "live_title": "ยังไม่เปิดรับชำระเงิน",
    "live_body": "{merchant} ยังไม่ได้เปิดรับชำระเงินที่นี่ จึงไม่สามารถชำระเงินได้ "
    "โปรดติดต่อ {merchant} เพื่อชำระด้วยวิธีอื่น",
    "live_needs_js": "การชำระด้วยบัตรต้องเปิดใช้ JavaScript ในเบราว์เซอร์นี้ "
    "ข้อมูลบัตรของคุณจะส่งตรงไปยังผู้ให้บริการบัตร ไม่ผ่านเซิร์ฟเวอร์ของหน้านี้",
    "live_promptpay_without_js": "ชำระด้วย QR พร้อมเพย์ได้โดยไม่ต้องใช้ JavaScript",
    "err_card_token": "ไม่สามารถตรวจสอบบัตรของคุณได้ โปรดตรวจสอบข้อมูลแล้วลองอีกครั้ง",
    "not_found_title": "ไม่พบลิงก์ชำระเงิน",
    "not_found_body": "โปรดตรวจสอบว่าที่อยู่ลิงก์ครบถ้วน หรือขอลิงก์ใหม่จากผู้ขาย",
    "forbidden_title": "ไม่สามารถรับแบบฟอร์มนี้ได้",
    "forbidden_body": "เพื่อความปลอดภัย แบบฟอร์มนี้รับได้จากหน้าของตัวเองเท่านั้น ยังไม่มีการเรียกเก็บเงิน "
    "โปรดเปิดหน้าชำระเงินอีกครั้งแล้วลองใหม่",
    "stale_body": "แบบฟอร์มชำระเงินเปิดไว้นานเกินไปจนหมดอายุ ยังไม่มีการเรียกเก็บเงิน "
    "โปรดเปิดหน้าชำระเงินอีกครั้งแล้วลองใหม่",
    "rate_title": "ทำรายการบ่อยเกินไป",
    "rate_body": "มีการพยายามชำระเงินหลายครั้งในเวลาสั้น ๆ รายการนี้จึงยังไม่ถูกดำเนินการและไม่มีการเรียกเก็บเงิน "
    "โปรดรอ {seconds} วินาทีแล้วลองอีกครั้ง",
    "to_bank_title": "ยืนยันการชำระเงินกับธนาคารของคุณ",
    "to_bank_body": "ธนาคารของคุณขอให้ยืนยันการชำระเงินนี้ ระบบกำลังพาคุณไปยังหน้าของธนาคาร "
    "แล้วจะกลับมาที่หน้านี้หลังจากนั้น",
    "to_bank": "ไปยังหน้าธนาคาร",
    "processing_title": "กำลังดำเนินการชำระเงิน",
    "processing_body": "ระบบกำลังดำเนินการชำระเงินของคุณ โปรดโหลดหน้านี้ใหม่อีกครั้งในอีกสักครู่เพื่อดูผล "
    "และอย่าชำระเงินซ้ำ",
    "error_title": "เกิดข้อผิดพลาด",
    "error_body": "ระบบไม่สามารถดำเนินการตามคำขอได้ หากคุณกำลังชำระเงิน โปรดตรวจสอบกับผู้ขายก่อนลองอีกครั้ง",
    "bad_request_title": "ที่อยู่นี้ไม่ถูกต้อง",
    "bad_request_body": "ที่อยู่นี้มีอักขระที่หน้าชำระเงินไม่มี โปรดตรวจสอบว่าคัดลอกมาครบถ้วน หรือขอลิงก์จากผู้ขายอีกครั้ง",
    "back": "กลับไปหน้าชำระเงิน",
    "tds_title": "ยืนยันตัวตนของคุณ",
    "tds_body": "โหมดทดสอบ: ขั้นตอนนี้ธนาคารของคุณจะขอให้ยืนยันการชำระเงิน {amount} ให้กับ {merchant} "
    "(3-D Secure) โปรดเลือกผลของการยืนยันตัวตน",
    "tds_authenticate": "ยืนยันตัวตน",
    "tds_fail": "ไม่ผ่านการยืนยัน",
    "tds_done_title": "การยืนยันตัวตนเสร็จสิ้นแล้ว",
    "tds_done_body": "การชำระเงินนี้ไม่ได้รอการยืนยันตัวตนอีกแล้ว",
    "decline_failed_3ds": "ธนาคารของคุณไม่สามารถยืนยันการชำระเงินนี้ได้ (3-D Secure) ไม่มีการเรียกเก็บเงิน "
    "โปรดลองอีกครั้งหรือใช้บัตรอื่น",
    "tds_expired": "หมดเวลายืนยันการชำระเงินกับธนาคารของคุณแล้ว ไม่มีการเรียกเก็บเงิน โปรดลองอีกครั้ง",
}  # fmt: skip

CATALOGUES = {"en": EN, "th": TH}

# Omise: failure codes as the API reports them (FAILURE_MESSAGES); a lost or stolen card and a
# failed fraud check read as a plain decline, so the page does not coach a card tester.
DECLINES = {
    "insufficient_fund": "decline_insufficient_fund",
    "failed_processing": "decline_failed_processing",
    "payment_rejected": "decline_payment_rejected",
    "invalid_account_number": "decline_invalid_account_number",
    "failed_3ds": "decline_failed_3ds",
}

# The start of each card-check message in tokens/cards.py, and the field and words it maps to.
# Matching the text keeps the card rules in one place; an unknown message falls back to err_card.
CARD_ERRORS = (
    ("card number must contain only digits", "number", "err_number_invalid"),
    ("card number must have between", "number", "err_number_invalid"),
    ("card number is invalid", "number", "err_number_invalid"),
    ("card brand is not supported", "number", "err_number_brand"),
    ("expiration month", "expiry", "err_expiry_invalid"),
    ("expiration year", "expiry", "err_expiry_invalid"),
    ("card has expired", "expiry", "err_expiry_past"),
    ("security code", "security_code", "err_security_code"),
)


@dataclass(frozen=True)
class Messages:
    """The catalogue of one locale; `t(key, **values)` fills placeholders."""

    locale: str

    def __call__(self, key: str, **values: object) -> str:
        text = CATALOGUES[self.locale].get(key) or EN[key]
        return text.format(**values) if values else text

    def decline(self, failure_code: str | None, *, livemode: bool = False) -> str:
        """What the customer reads after a decline. In live mode always the generic words: a
        precise reason (no funds, bad account) tells a card tester which numbers are real;
        the merchant still sees the failure code on the charge."""
        if livemode:
            return self("decline_generic")
        return self(DECLINES.get(failure_code or "", "decline_generic"))

    def card_error(self, error: ApiError) -> tuple[str, str]:
        """(field, message) for an error raised while checking or vaulting a card."""
        if isinstance(error, TestModeLiveCard):
            return "number", self("err_number_test_mode")
        if isinstance(error, InvalidCard):
            for start, field, key in CARD_ERRORS:
                if error.message.startswith(start):
                    return field, self(key)
        return "number", self("err_card")
