"""Readable category names and search terms of the synthetic catalogs."""

from __future__ import annotations

from typing import Final

#: (category name, search terms) of a general-merchandise shop.
GENERAL: Final[tuple[tuple[str, tuple[str, ...]], ...]] = (
    ("electronics", ("wireless headphones", "bluetooth speaker", "usb c charger")),
    ("books", ("mystery novel", "cookbook", "science fiction")),
    ("home-kitchen", ("frying pan", "coffee maker", "knife set")),
    ("toys", ("building blocks", "board game", "puzzle 1000 pieces")),
    ("sports", ("yoga mat", "dumbbells", "running belt")),
    ("beauty", ("face serum", "lipstick", "hair dryer")),
    ("fashion", ("denim jacket", "summer dress", "wool scarf")),
    ("garden", ("garden hose", "plant pot", "pruning shears")),
    ("pet-supplies", ("dog leash", "cat litter", "pet bed")),
    ("office", ("desk lamp", "notebook", "ergonomic chair")),
    ("music", ("vinyl record", "guitar strings", "ukulele")),
    ("video-games", ("game controller", "racing game", "gaming headset")),
    ("health", ("vitamin d", "thermometer", "first aid kit")),
    ("baby", ("baby stroller", "diapers", "baby monitor")),
    ("automotive", ("car phone mount", "tire inflator", "seat covers")),
    ("tools", ("cordless drill", "screwdriver set", "tape measure")),
    ("jewelry", ("silver necklace", "hoop earrings", "charm bracelet")),
    ("shoes", ("running shoes", "leather boots", "sandals")),
    ("outdoors", ("camping tent", "hiking backpack", "sleeping bag")),
    ("arts-crafts", ("acrylic paint", "sketchbook", "knitting yarn")),
    ("luggage", ("carry on suitcase", "travel organizer", "duffel bag")),
    ("watches", ("smart watch", "analog watch", "watch strap")),
    ("software", ("photo editor", "antivirus", "office suite")),
    ("cameras", ("mirrorless camera", "camera lens", "tripod")),
    ("phones", ("smartphone", "phone case", "screen protector")),
    ("computers", ("laptop", "mechanical keyboard", "wireless mouse")),
    ("furniture", ("bookshelf", "sofa", "bedside table")),
    ("lighting", ("led strip", "floor lamp", "smart bulb")),
    ("bedding", ("duvet cover", "memory foam pillow", "fitted sheet")),
    ("bath", ("bath towel", "shower curtain", "bath mat")),
    ("cleaning", ("robot vacuum", "microfiber cloth", "steam mop")),
    ("appliances", ("air fryer", "blender", "stand mixer")),
    ("party", ("balloons", "party lights", "paper plates")),
    ("stationery", ("gel pens", "planner", "washi tape")),
    ("fitness-tech", ("fitness tracker", "heart rate monitor", "smart scale")),
    ("cycling", ("bike helmet", "bike lights", "cycling gloves")),
    ("swimming", ("swim goggles", "swimsuit", "beach towel")),
    ("collectibles", ("trading cards", "action figure", "model kit")),
    ("tea-coffee", ("green tea", "coffee beans", "french press")),
    ("kids-fashion", ("kids sneakers", "school backpack", "rain jacket")),
)

#: (category name, search terms) of a grocery shop, where people buy the same products again.
GROCERY: Final[tuple[tuple[str, tuple[str, ...]], ...]] = (
    ("dairy", ("whole milk", "greek yogurt", "cheddar cheese")),
    ("produce", ("bananas", "avocado", "baby spinach")),
    ("bakery", ("sourdough bread", "croissants", "bagels")),
    ("meat", ("chicken breast", "ground beef", "bacon")),
    ("seafood", ("salmon fillet", "shrimp", "tuna steak")),
    ("frozen", ("frozen pizza", "ice cream", "frozen peas")),
    ("pantry", ("pasta", "olive oil", "basmati rice")),
    ("snacks", ("potato chips", "granola bars", "mixed nuts")),
    ("beverages", ("sparkling water", "orange juice", "cola")),
    ("coffee-tea", ("ground coffee", "coffee pods", "black tea")),
    ("breakfast", ("oatmeal", "cereal", "maple syrup")),
    ("canned", ("canned tomatoes", "chickpeas", "coconut milk")),
    ("condiments", ("ketchup", "mayonnaise", "hot sauce")),
    ("spices", ("black pepper", "paprika", "cinnamon")),
    ("baking", ("flour", "sugar", "baking powder")),
    ("household", ("paper towels", "dish soap", "trash bags")),
    ("personal-care", ("toothpaste", "shampoo", "deodorant")),
    ("baby-care", ("baby wipes", "diapers size 3", "baby food")),
    ("pet-food", ("dry dog food", "cat food", "dog treats")),
    ("deli", ("sliced ham", "hummus", "olives")),
    ("eggs", ("free range eggs", "egg whites", "quail eggs")),
    ("plant-based", ("oat milk", "tofu", "veggie burger")),
    ("wine-beer", ("red wine", "craft beer", "cider")),
    ("health-food", ("protein powder", "chia seeds", "kombucha")),
)

THEMES: Final[dict[str, tuple[tuple[str, tuple[str, ...]], ...]]] = {"general": GENERAL, "grocery": GROCERY}

#: Modifiers shoppers put in front of a search term; the empty one keeps bare terms the most common.
QUERY_MODIFIERS: Final[tuple[str, ...]] = ("", "", "", "cheap ", "best ", "new ", "sale ", "gift ")

#: Fictional personal data injected when ``pii_fraction > 0``: reserved example domains, the
#: 555-01xx fiction range and documentation IP blocks, so nothing real can ever leak from a test.
FIRST_NAMES: Final[tuple[str, ...]] = ("jane", "john", "maria", "li", "ahmed", "olga", "sam", "aiko")
LAST_NAMES: Final[tuple[str, ...]] = ("doe", "smith", "garcia", "chen", "khan", "ivanova", "lee", "sato")
STREETS: Final[tuple[str, ...]] = ("Main St", "Oak Ave", "Elm Rd", "Maple Ln")
EMAIL_DOMAINS: Final[tuple[str, ...]] = ("example.com", "example.org", "example.net")


def category_vocabulary(theme: str, n_categories: int) -> tuple[list[str], list[tuple[str, ...]]]:
    """Names and search terms of ``n_categories`` categories of a theme.

    Parameters
    ----------
    theme
        ``general`` or ``grocery``.
    n_categories
        How many categories. Beyond the theme's list, names repeat with a numeric suffix
        (``books-2``) so that every name stays unique and readable.

    Returns
    -------
    tuple of (list of str, list of tuple of str)
        Category names and, per category, its search terms.
    """
    base = THEMES[theme]
    names: list[str] = []
    terms: list[tuple[str, ...]] = []
    for index in range(n_categories):
        name, category_terms = base[index % len(base)]
        generation = index // len(base)
        names.append(name if generation == 0 else f"{name}-{generation + 1}")
        terms.append(category_terms)
    return names, terms
