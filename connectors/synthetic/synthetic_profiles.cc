// The numbers behind synthetic_profiles.h: populations, the partner
// organisations' profiles, and the vehicle and address populations. Volumes
// loosely follow the brief's report counts, delays its "time is uneven".
#include "connectors/synthetic/synthetic_profiles.h"

namespace mozaiek::synthetic {
namespace {

constexpr Weighted kAsylumNat[] = {{"SY", 22}, {"AF", 10}, {"ER", 10}, {"TR", 9}, {"SD", 7},
                                   {"IQ", 5},  {"NG", 5},  {"MA", 5},  {"SO", 5}, {"YE", 4},
                                   {"IR", 4},  {"DZ", 3},  {"GN", 3},  {"VN", 2}, {"CO", 2}};
constexpr Weighted kMinorNat[] = {{"SY", 22}, {"ER", 15}, {"AF", 15}, {"SD", 8},
                                  {"SO", 7},  {"VN", 6},  {"MA", 6},  {"DZ", 4},
                                  {"GN", 4},  {"NG", 3},  {"TR", 4},  {"EG", 3}};
constexpr Weighted kLabourNat[] = {{"RO", 20}, {"PL", 20}, {"BG", 14}, {"UA", 8}, {"HU", 5},
                                   {"LT", 4},  {"NL", 5},  {"VN", 4},  {"IN", 4}, {"PH", 5},
                                   {"NG", 2},  {"BR", 3},  {"CO", 3},  {"MD", 2}};
constexpr Weighted kLocalNat[] = {{"NL", 35}, {"RO", 10}, {"BG", 8}, {"NG", 9}, {"HU", 4},
                                  {"PL", 4},  {"CO", 4},  {"TH", 3}, {"VN", 3}, {"SR", 3},
                                  {"MA", 4},  {"ER", 3},  {"UA", 3}, {"BR", 3}, {"DO", 3}};
constexpr Weighted kCareNat[] = {{"NL", 45}, {"MA", 8}, {"SR", 6}, {"TR", 6}, {"NG", 5}, {"ER", 5},
                                 {"SY", 5},  {"RO", 5}, {"PL", 5}, {"AF", 3}, {"SO", 3}, {"VN", 2}};
constexpr Weighted kAsylumSchemes[] = {{"v-number", 85}, {"coa-resident", 15}};
constexpr Weighted kMinorSchemes[] = {{"v-number", 80}, {"nidos-client", 20}};
constexpr Weighted kLabourSchemes[] = {{"bsn", 55}, {"passport", 45}};
constexpr Weighted kLocalSchemes[] = {{"bsn", 70}, {"passport", 30}};
constexpr Weighted kCareSchemes[] = {{"bsn", 85}, {"care-client", 15}};

}  // namespace

constinit const Population kAsylum{kAsylumNat, kAsylumSchemes, 0.12, 0.05};
constinit const Population kMinors{kMinorNat, kMinorSchemes, 0.93, 0.07};
constinit const Population kLabour{kLabourNat, kLabourSchemes, 0.01, 0.04};
constinit const Population kLocal{kLocalNat, kLocalSchemes, 0.08, 0.10};
constinit const Population kCare{kCareNat, kCareSchemes, 0.30, 0.05};

namespace {

constexpr Weighted kCoaMix[] = {{"behaviour_change", 3},
                                {"often_absent", 3},
                                {"visitor_vehicle", 2},
                                {"pickup_van", 1.5},
                                {"worrying_departure", 1.5},
                                {"weight_loss_or_neglect", 1.5},
                                {"outside_contacts", 1.5},
                                {"many_foreign_calls", 1},
                                {"expensive_possessions", 1},
                                {"fixed_time_appointments", 1},
                                {"multiple_phones", 1},
                                {"missed_appointments", 1},
                                {"recruited_near_reception", 0.5},
                                {"fear_or_distress", 1},
                                {"carries_goods_for_others", 0.5}};
constexpr Weighted kNidosMix[] = {{"fear_or_distress", 3},      {"unexplained_money", 2},
                                  {"expensive_possessions", 2}, {"intends_onward_travel", 2},
                                  {"too_good_promise", 1.5},    {"unexplained_pain", 1.5},
                                  {"often_absent", 2},          {"fixed_time_appointments", 1.5},
                                  {"outside_contacts", 1.5},    {"missed_appointments", 2},
                                  {"worrying_departure", 1},    {"substance_use_self_harm", 1},
                                  {"behaviour_change", 1.5}};
constexpr Weighted kIndMix[] = {{"route_captivity", 3},          {"route_forced_work", 3},
                                {"route_forced_sex", 2},         {"debt_to_smuggler", 3},
                                {"fear_of_reprisal", 2},         {"too_good_promise", 1},
                                {"self_identifies_victim", 0.5}, {"documents_held_by_other", 1},
                                {"denies_but_knows_others", 1}};
constexpr Weighted kAvimMix[] = {{"route_captivity", 2},          {"route_forced_sex", 2},
                                 {"route_forced_work", 2},        {"documents_held_by_other", 2},
                                 {"debt_to_smuggler", 2},         {"fear_of_reprisal", 1.5},
                                 {"self_identifies_victim", 0.5}, {"denies_but_knows_others", 1.5},
                                 {"multiple_phones", 1}};
constexpr Weighted kKmarMix[] = {
    {"documents_held_by_other", 3}, {"transports_persons_with_documents", 2},
    {"debt_to_smuggler", 1.5},      {"fear_or_distress", 1.5},
    {"unexplained_money", 1},       {"route_captivity", 1},
    {"unexplained_pain", 1}};
constexpr Weighted kPoliceMix[] = {
    {"unlicensed_sex_work", 2},        {"suspect_online_ad", 2},
    {"foreign_plate_recurring", 2},    {"transports_persons_with_documents", 1},
    {"overcrowded_address", 1},        {"carries_goods_for_others", 1.5},
    {"self_identifies_victim", 1},     {"route_forced_sex", 0.5},
    {"documents_held_by_other", 1},    {"substance_use_self_harm", 1},
    {"persons_moved_between_sites", 1}};
constexpr Weighted kNlaMix[] = {{"underpaid_work", 3},
                                {"no_contract", 3},
                                {"sleeps_at_workplace", 2},
                                {"long_working_hours", 2},
                                {"living_signs_at_workplace", 2},
                                {"documents_held_by_other", 1},
                                {"debt_to_smuggler", 0.5}};
constexpr Weighted kFairworkMix[] = {{"underpaid_work", 3},
                                     {"no_contract", 2},
                                     {"long_working_hours", 2},
                                     {"debt_to_smuggler", 1.5},
                                     {"documents_held_by_other", 1.5},
                                     {"fear_of_reprisal", 1.5},
                                     {"self_identifies_victim", 1},
                                     {"sleeps_at_workplace", 1}};
constexpr Weighted kMunicipalityMix[] = {
    {"overcrowded_address", 3},        {"foreign_plate_recurring", 3},
    {"business_without_customers", 2}, {"living_signs_at_workplace", 2},
    {"unlicensed_sex_work", 1},        {"persons_moved_between_sites", 1}};
constexpr Weighted kCareMix[] = {{"fear_or_distress", 2},        {"behaviour_change", 2},
                                 {"substance_use_self_harm", 2}, {"unexplained_pain", 1.5},
                                 {"self_identifies_victim", 1},  {"expensive_possessions", 1},
                                 {"fear_of_reprisal", 1},        {"missed_appointments", 1.5}};
constexpr Weighted kVeiligThuisMix[] = {
    {"fear_or_distress", 2},        {"behaviour_change", 2},        {"unexplained_pain", 1},
    {"suspect_online_ad", 1.5},     {"fixed_time_appointments", 1}, {"substance_use_self_harm", 1},
    {"self_identifies_victim", 0.5}};
constexpr Weighted kRiecMix[] = {
    {"business_without_customers", 3},  {"overcrowded_address", 2},
    {"persons_moved_between_sites", 2}, {"unlicensed_sex_work", 2},
    {"foreign_plate_recurring", 1.5},   {"living_signs_at_workplace", 1}};

constexpr const char* kAsylumSide[] = {"coa", "nidos", "ind", "avim", "kmar"};
constexpr const char* kLabourSide[] = {"nla", "fairwork", "municipality", "police", "riec"};
constexpr const char* kCareSide[] = {"care_coordinator", "veilig_thuis", "police", "municipality"};

constexpr Profile kProfiles[] = {
    {"coa", 12, Delay::batch14, &kAsylum, kCoaMix, kAsylumSide, 0, false, true, false,
     Unit::reception, nullptr},
    {"nidos", 8, Delay::days_short, &kMinors, kNidosMix, kAsylumSide, 0, false, true, false,
     Unit::nidos, nullptr},
    {"ind", 8, Delay::weeks, &kAsylum, kIndMix, kAsylumSide, 0.35, false, true, false, Unit::none,
     nullptr},
    {"avim", 6, Delay::hours, &kAsylum, kAvimMix, kAsylumSide, 0, true, false, false, Unit::fixed,
     "avim-ter-apel"},
    {"kmar", 4, Delay::hours, &kAsylum, kKmarMix, kAsylumSide, 0, false, false, true, Unit::fixed,
     "kmar-schiphol"},
    {"police", 18, Delay::nightly, &kLocal, kPoliceMix, kLabourSide, 0, false, false, true,
     Unit::none, nullptr},
    {"nla", 6, Delay::days, &kLabour, kNlaMix, kLabourSide, 0, false, true, false, Unit::none,
     nullptr},
    {"fairwork", 8, Delay::days, &kLabour, kFairworkMix, kLabourSide, 0.3, false, true, false,
     Unit::none, nullptr},
    {"municipality", 12, Delay::days, &kLocal, kMunicipalityMix, kLabourSide, 0, false, true, false,
     Unit::none, nullptr},
    {"care_coordinator", 8, Delay::days, &kCare, kCareMix, kCareSide, 0.25, false, true, false,
     Unit::none, nullptr},
    {"veilig_thuis", 5, Delay::within_day, &kCare, kVeiligThuisMix, kCareSide, 0.25, false, false,
     false, Unit::none, nullptr},
    {"riec", 5, Delay::days, &kLocal, kRiecMix, kLabourSide, 0, false, true, false, Unit::none,
     nullptr},
};

constexpr const char* kMunicipalityNames[] = {"rotterdam", "den-haag",   "amsterdam", "utrecht",
                                              "eindhoven", "tilburg",    "venlo",     "westland",
                                              "zaanstad",  "almere",     "breda",     "arnhem",
                                              "groningen", "emmen",      "nijmegen",  "enschede",
                                              "den-bosch", "dordrecht",  "schiedam",  "helmond",
                                              "oss",       "roosendaal", "heerlen",   "zwolle"};
constexpr Weighted kPlateCountryWeights[] = {{"NL", 38}, {"PL", 16}, {"RO", 15}, {"BG", 10},
                                             {"DE", 7},  {"FR", 5},  {"BE", 5},  {"LT", 4}};

}  // namespace

constinit const std::span<const Profile> kKnownProfiles = kProfiles;
constinit const Profile kGenericProfile{nullptr, 5,     Delay::days, &kLocal, {},         {},
                                        0,       false, true,        false,   Unit::none, nullptr};
constinit const std::span<const char* const> kMunicipalities = kMunicipalityNames;
constinit const std::span<const Weighted> kPlateCountries = kPlateCountryWeights;

}  // namespace mozaiek::synthetic
