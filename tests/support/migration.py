"""A database at an older revision, filled the way that revision's code filled it (plain SQL: today's models
no longer match the old tables)."""
from sqlalchemy import text

from app import create_app

USER = ('INSERT INTO "user" (id, status, nickname, avatar_url, sex, province, city, country, session_token, created_at, '
        "mobile, reminders_enabled, personalization_enabled, promotions_enabled) VALUES (1, 'active', '旧用户', '', 0, "
        "'', '', '', 'tok-1', '2026-01-01 00:00:00', :mobile, 1, 1, 1)")
APPLICATION = ("INSERT INTO application (id, number, user_id, product_id, status, step, plan_code, frequency, data, "
               "created_at, updated_at) VALUES (1, 'WB1', 1, 1, 'draft', 3, 'basic', 'annual', :data, "
               "'2026-01-01 00:00:00', '2026-01-01 00:00:00')")


def old_app(app, path):
    """An app of its own on a SQLite file, with the test app's keys."""
    return create_app({"TESTING": True, "SECRET_KEY": "migration-test", "DATA_KEY": app.config["DATA_KEY"],
                       "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"})


def old_catalog(connection):
    """One product on sale since 2026-01-01 (one plan, two age bands, not priced by gender or 社保)."""
    for statement in (
        "INSERT INTO insurer (id, slug, name, short_name, description) VALUES (1, 'hx', '和信财产保险', '和信', '')",
        "INSERT INTO category (id, slug, name, summary, position) VALUES (1, 'medical', '医疗险', '', 0)",
        "INSERT INTO product (id, slug, name, tagline, insurer_id, category_id, age_min, age_max, coverage_period, "
        "waiting_period_days, cooling_off_days, renewal, highlights, priced_by_gender, priced_by_social_security, "
        "payment_frequencies, monthly_loading_permille, price_from_fen, sales_count, rank, featured, launched_on, "
        "is_active, is_demo) VALUES (1, 'old-medical', '旧医疗险', '迁移前的产品', 1, 1, 0, 70, '1年', 30, 15, "
        "'不保证续保', '', false, false, 'annual', 1000, 10000, 0, 0, false, '2026-01-01', true, true)",
        "INSERT INTO plan (id, product_id, code, name, position, sum_assured_fen, description) "
        "VALUES (1, 1, 'basic', '基础版', 0, 100000000, '')",
        "INSERT INTO rate_row (plan_id, age_min, age_max, gender, social_security, annual_premium_fen) "
        "VALUES (1, 0, 40, NULL, NULL, 10000)",
        "INSERT INTO rate_row (plan_id, age_min, age_max, gender, social_security, annual_premium_fen) "
        "VALUES (1, 41, 70, NULL, NULL, 20000)",
    ):
        connection.execute(text(statement))
