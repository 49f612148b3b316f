"""The car-insurance quote."""
from flask import current_app

from app.core.htmx import render_page
from app.extensions import limiter
from app.purchase import bp
from app.purchase.car import quote
from app.purchase.forms import CarQuoteForm


@bp.get("/car")
def car():
    """The car quote form."""
    return render_page("purchase/car.html", "car", form=CarQuoteForm(formdata=None), result=None)


@bp.post("/car")
@limiter.limit(lambda: current_app.config["RATELIMIT_QUOTE"])
def car_quote():
    """Price the car: the form and the quote block for htmx, the whole page without JavaScript."""
    form = CarQuoteForm()
    if not form.validate():
        return render_page("purchase/car.html", "car", 422, form=form, result=None)
    return render_page("purchase/car.html", "car", form=form, result=quote(**form.pricing_args()))
