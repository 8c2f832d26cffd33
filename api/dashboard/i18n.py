"""The dashboard's Vietnamese and English labels, and the 7P labels from ``data/taxonomy.toml``.

Vietnamese is the default; ``?lang=en`` switches and the choice is remembered in a cookie.
Topic labels are never written here: they come from the taxonomy file, so a team that relabels a
topic there sees its label in the dashboard too.

>>> Translator("en").text("sentiment.negative")
'Negative'
>>> Translator("vi").topic("people")
'Con người'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from nlp.taxonomy import load_taxonomy

LANGUAGES: Final = ("vi", "en")
DEFAULT_LANGUAGE: Final = "vi"
LANG_COOKIE: Final = "vicx_lang"

#: key -> (Vietnamese, English). Placeholders use str.format names.
MESSAGES: Final[dict[str, tuple[str, str]]] = {
    "app.tagline": ("Phân tích phản hồi khách hàng", "Customer feedback intelligence"),
    "nav.batches": ("Các lô dữ liệu", "Batches"),
    "nav.sign_in": ("Đăng nhập", "Sign in"),
    "nav.sign_out": ("Đăng xuất", "Sign out"),
    "nav.language": ("Ngôn ngữ", "Language"),
    "nav.signed_in_as": ("Khóa: {name}", "Key: {name}"),
    "nav.open_mode": ("Chế độ mở (không cần khóa)", "Open mode (no key needed)"),
    "nav.skip": ("Bỏ qua, tới nội dung chính", "Skip to main content"),
    # sign-in
    "signin.title": ("Đăng nhập bằng khóa API", "Sign in with an API key"),
    "signin.lead": (
        "Dán khóa API của bạn (bắt đầu bằng vicx_). Khóa được lưu trong cookie HttpOnly của "
        "trình duyệt này; bạn chỉ thấy các lô của khóa đó.",
        "Paste your API key (it starts with vicx_). It is kept in an HttpOnly cookie in this "
        "browser; you see only that key's batches.",
    ),
    "signin.key": ("Khóa API", "API key"),
    "signin.submit": ("Đăng nhập", "Sign in"),
    "signin.invalid": (
        "Khóa không hợp lệ hoặc đã bị thu hồi.",
        "That key is unknown or has been revoked.",
    ),
    "signin.hint": (
        "Chưa có khóa? Người quản trị tạo khóa bằng lệnh: vicx keys create TÊN",
        "No key yet? An administrator creates one with: vicx keys create NAME",
    ),
    # batches page
    "batches.title": ("Các lô dữ liệu", "Batches"),
    "batches.lead": (
        "Tải lên một tệp phản hồi, theo dõi tiến trình và xem khách hàng không hài lòng ở đâu.",
        "Upload a feedback file, watch it run, and see where customers are unhappy and why.",
    ),
    "batches.empty": (
        "Chưa có lô nào. Tải tệp CSV, XLSX hoặc JSONL lên để bắt đầu.",
        "No batches yet. Upload a CSV, XLSX or JSONL file to start.",
    ),
    "batches.col.name": ("Tên", "Name"),
    "batches.col.rows": ("Số dòng", "Rows"),
    "batches.col.status": ("Trạng thái", "Status"),
    "batches.col.created": ("Tạo lúc", "Created"),
    "batches.col.sentiment": ("Cảm xúc", "Sentiment"),
    "batches.open": ("Mở", "Open"),
    "status.queued": ("Đang chờ", "Queued"),
    "status.running": ("Đang chạy", "Running"),
    "status.done": ("Hoàn tất", "Done"),
    "status.failed": ("Lỗi", "Failed"),
    "progress.rows": ("{done} / {total} dòng", "{done} / {total} rows"),
    "progress.rows_unknown": ("{done} dòng", "{done} rows"),
    "progress.failed_rows": (
        "{failed} dòng không phân tích được",
        "{failed} rows could not be analysed",
    ),
    "progress.open": ("Xem tổng quan", "Open the overview"),
    # upload
    "upload.title": ("Tải lên lô mới", "Upload a new batch"),
    "upload.file": ("Tệp (CSV, TSV, XLSX, JSONL)", "File (CSV, TSV, XLSX, JSONL)"),
    "upload.file_help": (
        "Chọn tệp để xem các cột được nhận diện.",
        "Choose a file to see the columns found in it.",
    ),
    "upload.preview": ("Xem trước", "Preview"),
    "upload.preview_caption": ("{n} dòng đầu của {filename}", "First {n} rows of {filename}"),
    "upload.name": ("Tên lô (không bắt buộc)", "Batch name (optional)"),
    "upload.text_column": ("Cột bình luận", "Comment column"),
    "upload.score_column": ("Cột điểm (không bắt buộc)", "Score column (optional)"),
    "upload.score_scale": ("Thang điểm", "Score scale"),
    "upload.date_column": ("Cột ngày (không bắt buộc)", "Date column (optional)"),
    "upload.none": ("— Không có —", "— None —"),
    "upload.scale.auto": ("Tự nhận diện", "Detect"),
    "upload.scale.nps": ("NPS 0–10", "NPS 0–10"),
    "upload.scale.csat": ("CSAT 1–5", "CSAT 1–5"),
    "upload.scale.ces": ("CES 1–7", "CES 1–7"),
    "upload.scale.stars": ("Sao 1–5", "Stars 1–5"),
    "upload.submit": ("Bắt đầu phân tích", "Start the analysis"),
    "upload.started": ("Đã nhận lô “{name}”.", "Batch “{name}” accepted."),
    "upload.another": ("Tải lên lô khác", "Upload another batch"),
    "upload.choose_file": ("Hãy chọn một tệp.", "Choose a file first."),
    # overview
    "overview.comments": ("Bình luận", "Comments"),
    "overview.negative_share": ("Tiêu cực", "Negative"),
    "overview.nps": ("NPS", "NPS"),
    "overview.nps_label": (
        "Từ cột điểm “{column}” · KTC 95%: {low} đến {high}",
        "From the score column “{column}” · 95% CI {low} to {high}",
    ),
    "overview.box": ("Điểm trung bình", "Mean score"),
    "overview.box_label": (
        "Thang {scale} · top-2: {top2} · bottom-2: {bottom2}",
        "{scale} scale · top-2 box {top2} · bottom-2 box {bottom2}",
    ),
    "overview.predicted": ("Tỷ lệ dự báo phàn nàn", "Predicted detractors"),
    "overview.predicted_label": (
        "Dự báo từ nội dung bình luận (không có cột điểm)",
        "Predicted from the comment text (no score column)",
    ),
    "overview.top_issue": ("Vấn đề lớn nhất", "Biggest issue"),
    "overview.top_issue_label": (
        "{count} lượt nhắc tiêu cực",
        "{count} negative mentions",
    ),
    "overview.no_issue": ("Không có", "None"),
    "overview.of_rows": ("trên {rows} dòng", "of {rows} rows"),
    "overview.failed_rows": ("{n} dòng lỗi", "{n} failed rows"),
    "chart.sentiment": ("Tỷ lệ cảm xúc", "Sentiment split"),
    "chart.topics": ("7P theo cảm xúc", "7P by sentiment"),
    "chart.topics_help": (
        "Số lượt nhắc đến mỗi chủ đề, theo sắc thái. Bấm vào một thanh để đọc bình luận.",
        "Mentions of each topic by polarity. Click a bar to read the comments.",
    ),
    "chart.drivers": ("Tác động đến NPS theo chủ đề", "NPS impact by topic"),
    "chart.drivers_help": (
        "Số điểm NPS mỗi chủ đề kéo xuống (âm) hoặc đẩy lên; chủ đề làm mất nhiều điểm nhất "
        "ở trên.",
        "NPS points each topic takes away (negative) or adds; the costliest topics first.",
    ),
    "chart.drivers_predicted": (
        "Tác động đến tỷ lệ phàn nàn dự báo",
        "Impact on predicted detractors",
    ),
    "chart.drivers_predicted_help": (
        "Số điểm phần trăm mỗi chủ đề làm tăng tỷ lệ phàn nàn dự báo; cao nhất ở trên.",
        "Percentage points each topic adds to the predicted detractor rate; highest first.",
    ),
    "chart.trend": ("Xu hướng theo thời gian", "Trend over time"),
    "chart.trend_help_month": (
        "Số bình luận mỗi tháng theo cảm xúc (cột ngày “{column}”); đường: {metric}.",
        "Comments per month by sentiment (date column “{column}”); line: {metric}.",
    ),
    "chart.trend_help_week": (
        "Số bình luận mỗi tuần theo cảm xúc (cột ngày “{column}”); đường: {metric}.",
        "Comments per week by sentiment (date column “{column}”); line: {metric}.",
    ),
    "chart.png": ("Tải biểu đồ dạng PNG", "Download the chart as PNG"),
    "chart.impact": ("Tác động", "Impact"),
    "chart.topic_nps": ("NPS của chủ đề", "Topic NPS"),
    "chart.mentions": ("Lượt nhắc", "Mentions"),
    "chart.negative_rate": ("% tiêu cực", "% negative"),
    "chart.detractor_rate": ("% phàn nàn dự báo", "% predicted detractors"),
    "table.topic": ("Chủ đề", "Topic"),
    "table.mentions": ("Lượt nhắc", "Mentions"),
    "table.topic_nps": ("NPS chủ đề", "Topic NPS"),
    "table.impact": ("Tác động NPS", "NPS impact"),
    "table.impact_predicted": ("Tác động (điểm %)", "Impact (pct points)"),
    "table.detractor_rate": ("Tỷ lệ phàn nàn", "Detractor rate"),
    # filters
    "filters.title": ("Bộ lọc", "Filters"),
    "filters.all": ("Tất cả", "All"),
    "filters.date_from": ("Từ ngày", "From"),
    "filters.date_to": ("Đến ngày", "To"),
    "filters.apply": ("Áp dụng", "Apply"),
    "filters.clear": ("Bỏ lọc", "Clear filters"),
    "filters.active": ("Đang lọc: {n} dòng", "Filtered: {n} rows"),
    "export.csv": ("Xuất CSV", "Export CSV"),
    "export.xlsx": ("Xuất XLSX", "Export XLSX"),
    "export.json": ("JSON", "JSON"),
    "export.help": ("Xuất đúng phần đang lọc", "Exports the current filtered view"),
    # comments
    "comments.title": ("Bình luận", "Comments"),
    "comments.back": ("Quay lại tổng quan", "Back to the overview"),
    "comments.search": ("Tìm trong bình luận", "Search the comments"),
    "comments.topic": ("Chủ đề", "Topic"),
    "comments.sentiment": ("Cảm xúc chung", "Overall sentiment"),
    "comments.polarity": ("Sắc thái của chủ đề", "Topic polarity"),
    "comments.sort": ("Sắp xếp", "Sort"),
    "comments.sort.row": ("Theo thứ tự dòng", "Row order"),
    "comments.sort.detractor": ("Khả năng phàn nàn cao nhất", "Most likely detractors first"),
    "comments.sort.score": ("Điểm thấp nhất trước", "Lowest score first"),
    "comments.count": ("{total} bình luận", "{total} comments"),
    "comments.none": ("Không có bình luận nào khớp.", "No comments match."),
    "comments.row": ("Dòng {n}", "Row {n}"),
    "comments.detractor": ("Khả năng phàn nàn", "Detractor probability"),
    "comments.score": ("Điểm", "Score"),
    "comments.prev": ("Trang trước", "Previous page"),
    "comments.next": ("Trang sau", "Next page"),
    "comments.page": ("Trang {page} / {pages}", "Page {page} of {pages}"),
    "comments.no_text": ("(không có nội dung)", "(no text)"),
    "comments.failed": ("Không phân tích được: {message}", "Not analysed: {message}"),
    # sentiments / polarities
    "sentiment.positive": ("Tích cực", "Positive"),
    "sentiment.neutral": ("Trung tính", "Neutral"),
    "sentiment.negative": ("Tiêu cực", "Negative"),
    # errors
    "error.title": ("Đã có lỗi", "Something went wrong"),
    "error.not_found": ("Không tìm thấy trang hoặc lô này.", "No such page or batch."),
    "error.not_ready": (
        "Lô này chưa phân tích xong; số liệu sẽ có khi hoàn tất.",
        "This batch has not finished; its figures appear when it is done.",
    ),
    "error.forbidden_origin": (
        "Yêu cầu bị từ chối vì đến từ một trang khác.",
        "The request was refused because it came from another site.",
    ),
    "error.network": (
        "Không kết nối được với máy chủ. Hãy thử lại.",
        "Could not reach the server. Try again.",
    ),
}


@dataclass(frozen=True, slots=True)
class Translator:
    """Labels in one language; templates get it as ``t``."""

    lang: str

    def text(self, key: str, **values: object) -> str:
        vi, en = MESSAGES[key]
        template = en if self.lang == "en" else vi
        return template.format(**values) if values else template

    __call__ = text

    def topic(self, name: str) -> str:
        for topic in load_taxonomy():
            if topic.name == name:
                return topic.label_en if self.lang == "en" else topic.label_vi
        return name

    def topic_help(self, name: str) -> str:
        for topic in load_taxonomy():
            if topic.name == name:
                return topic.definition
        return ""

    def sentiment(self, name: str) -> str:
        return self.text(f"sentiment.{name}") if f"sentiment.{name}" in MESSAGES else name

    def topics(self) -> list[tuple[str, str]]:
        """(name, label) of every topic in taxonomy order."""
        return [(t.name, self.topic(t.name)) for t in load_taxonomy()]


def pick_language(query: str | None, cookie: str | None) -> str:
    """``?lang=`` wins, then the cookie, then Vietnamese."""
    for candidate in (query, cookie):
        if candidate in LANGUAGES:
            return candidate
    return DEFAULT_LANGUAGE
