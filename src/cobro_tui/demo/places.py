"""Municipalities the demo customers live in: all four Mexican time zones and the US-DST border."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Place:
    municipality: str
    inegi_code: str  # state (2 digits) + municipality (3 digits)
    state: str
    curp_state: str  # the state's code inside a CURP
    tz: str  # IANA zone; the rules engine resolves zones itself, this only spreads the demo
    postal_prefix: str
    lada: str  # long-distance area code
    weight: int


PLACES: tuple[Place, ...] = (
    Place("Tijuana", "02004", "Baja California", "BC", "America/Tijuana", "22", "664", 5),
    Place("Mexicali", "02002", "Baja California", "BC", "America/Tijuana", "21", "686", 3),
    Place("Ensenada", "02001", "Baja California", "BC", "America/Tijuana", "22", "646", 1),
    Place("San Luis Río Colorado", "26055", "Sonora", "SR", "America/Hermosillo", "83", "653", 1),
    Place("Hermosillo", "26030", "Sonora", "SR", "America/Hermosillo", "83", "662", 3),
    Place("Nogales", "26043", "Sonora", "SR", "America/Hermosillo", "84", "631", 1),
    Place("Juárez", "08037", "Chihuahua", "CH", "America/Ciudad_Juarez", "32", "656", 5),
    Place("Ojinaga", "08052", "Chihuahua", "CH", "America/Ojinaga", "32", "626", 1),
    Place("Chihuahua", "08019", "Chihuahua", "CH", "America/Chihuahua", "31", "614", 3),
    Place("Matamoros", "28022", "Tamaulipas", "TS", "America/Matamoros", "87", "868", 2),
    Place("Reynosa", "28032", "Tamaulipas", "TS", "America/Matamoros", "88", "899", 3),
    Place("Nuevo Laredo", "28027", "Tamaulipas", "TS", "America/Matamoros", "88", "867", 2),
    Place("Piedras Negras", "05025", "Coahuila", "CL", "America/Matamoros", "26", "878", 1),
    Place("Acuña", "05002", "Coahuila", "CL", "America/Matamoros", "26", "877", 1),
    Place("Torreón", "05035", "Coahuila", "CL", "America/Monterrey", "27", "871", 3),
    Place("Saltillo", "05030", "Coahuila", "CL", "America/Monterrey", "25", "844", 3),
    Place("Mazatlán", "25012", "Sinaloa", "SL", "America/Mazatlan", "82", "669", 2),
    Place("Culiacán", "25006", "Sinaloa", "SL", "America/Mazatlan", "80", "667", 3),
    Place("La Paz", "03003", "Baja California Sur", "BS", "America/Mazatlan", "23", "612", 1),
    Place("Tepic", "18017", "Nayarit", "NT", "America/Mazatlan", "63", "311", 1),
    Place("Bahía de Banderas", "18020", "Nayarit", "NT", "America/Bahia_Banderas", "63", "329", 1),
    Place("Cancún", "23005", "Quintana Roo", "QR", "America/Cancun", "77", "998", 3),
    Place("Chetumal", "23004", "Quintana Roo", "QR", "America/Cancun", "77", "983", 1),
    Place("Mérida", "31050", "Yucatán", "YN", "America/Merida", "97", "999", 3),
    Place("Cuauhtémoc", "09015", "Ciudad de México", "DF", "America/Mexico_City", "06", "55", 8),
    Place("Iztapalapa", "09007", "Ciudad de México", "DF", "America/Mexico_City", "09", "55", 8),
    Place("Ecatepec de Morelos", "15033", "Estado de México", "MC", "America/Mexico_City", "55", "55", 6),
    Place("Toluca", "15106", "Estado de México", "MC", "America/Mexico_City", "50", "722", 3),
    Place("Guadalajara", "14039", "Jalisco", "JC", "America/Mexico_City", "44", "33", 7),
    Place("Zapopan", "14120", "Jalisco", "JC", "America/Mexico_City", "45", "33", 4),
    Place("Monterrey", "19039", "Nuevo León", "NL", "America/Monterrey", "64", "81", 7),
    Place("Puebla", "21114", "Puebla", "PL", "America/Mexico_City", "72", "222", 5),
    Place("León", "11020", "Guanajuato", "GT", "America/Mexico_City", "37", "477", 4),
    Place("Querétaro", "22014", "Querétaro", "QT", "America/Mexico_City", "76", "442", 3),
    Place("Aguascalientes", "01001", "Aguascalientes", "AS", "America/Mexico_City", "20", "449", 2),
    Place("San Luis Potosí", "24028", "San Luis Potosí", "SP", "America/Mexico_City", "78", "444", 2),
    Place("Veracruz", "30193", "Veracruz", "VZ", "America/Mexico_City", "91", "229", 2),
    Place("Acapulco de Juárez", "12001", "Guerrero", "GR", "America/Mexico_City", "39", "744", 2),
    Place("Oaxaca de Juárez", "20067", "Oaxaca", "OC", "America/Mexico_City", "68", "951", 1),
    Place("Centro (Villahermosa)", "27004", "Tabasco", "TC", "America/Mexico_City", "86", "993", 2),
)
